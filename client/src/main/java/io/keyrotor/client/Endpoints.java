package io.keyrotor.client;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** Validates server addresses of the form {@code host:port} ({@code [v6addr]:port} for IPv6). */
public final class Endpoints {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private Endpoints() {}

  /**
   * Checks one address and returns it trimmed.
   *
   * @throws IllegalArgumentException naming the address and what is wrong with it
   */
  public static String validate(String address) {
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("empty server address (expected host:port)");
    }
    String trimmed = address.trim();
    int colon = trimmed.lastIndexOf(':');
    if (colon <= 0 || colon == trimmed.length() - 1) {
      throw new IllegalArgumentException(
          "invalid server address \"" + trimmed + "\" (expected host:port)");
    }
    String host = trimmed.substring(0, colon);
    if (host.contains(":") && !(host.startsWith("[") && host.endsWith("]"))) {
      throw new IllegalArgumentException(
          "invalid server address \"" + trimmed + "\" (write IPv6 addresses as [addr]:port)");
    }
    if (host.contains("/") || host.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          "invalid server address \"" + trimmed + "\" (expected host:port, no scheme or path)");
    }
    int port;
    try {
      port = Integer.parseInt(trimmed.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "invalid port in server address \"" + trimmed + "\" (expected host:port)");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "invalid port in server address \"" + trimmed + "\" (1-65535)");
    }
    return trimmed;
  }

  /**
   * Whether a valid {@code host:port} names this machine without asking DNS: {@code localhost}, an
   * IPv4 address in {@code 127.0.0.0/8}, or {@code [::1]}. Other host names count as remote.
   */
  public static boolean isLoopback(String address) {
    String valid = validate(address);
    String host = valid.substring(0, valid.lastIndexOf(':'));
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    boolean literal = IPV4.matcher(host).matches() || host.contains(":");
    if (!literal) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress(); // a literal: no DNS lookup
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * Parses a comma-separated list such as {@code 127.0.0.1:7101,127.0.0.1:7102}, dropping
   * duplicates and keeping the order.
   *
   * @throws IllegalArgumentException if the list is empty or an address is invalid
   */
  public static List<String> parseList(String commaSeparated) {
    if (commaSeparated == null || commaSeparated.isBlank()) {
      throw new IllegalArgumentException("empty server list (expected host:port,host:port,...)");
    }
    Set<String> addresses = new LinkedHashSet<>();
    for (String part : commaSeparated.split(",", -1)) {
      if (part.isBlank()) {
        continue;
      }
      addresses.add(validate(part));
    }
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("empty server list (expected host:port,host:port,...)");
    }
    return new ArrayList<>(addresses);
  }
}
