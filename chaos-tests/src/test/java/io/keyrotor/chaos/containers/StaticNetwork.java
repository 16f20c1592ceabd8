package io.keyrotor.chaos.containers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.containers.Network;

/**
 * A test network without DNS: a bridge network on a {@code 10.213.N.0/24} subnet no other engine
 * network uses, with podman's DNS server (aardvark-dns) turned off, so every node is addressed by a
 * fixed IP literal ({@link #address(int)}) and no name is ever resolved on it. An enabled
 * aardvark-dns forwards the names it does not know (a peer's name while that peer is down or
 * disconnected) to the host's resolver, off this machine.
 *
 * <p>The Docker-compatible API cannot turn DNS off (it ignores a {@code dns_enabled} option), so
 * the network is created through podman's own API on the same socket ({@code DOCKER_HOST}), and its
 * {@code dns_enabled} is read back: a network with DNS is removed again and refused. It carries the
 * {@code org.testcontainers=true} label, so {@code scripts/container-engine sweep} removes one a
 * killed test left.
 */
public final class StaticNetwork implements Network {
  private static final String PREFIX = "10.213.";
  private static final Pattern SUBNET = Pattern.compile("\"subnet\"\\s*:\\s*\"([0-9./]+)\"");

  private final String name;
  private final String id;
  private final int thirdOctet;
  private boolean closed;

  private StaticNetwork(String name, String id, int thirdOctet) {
    this.name = name;
    this.id = id;
    this.thirdOctet = thirdOctet;
  }

  /**
   * Creates the network on the first free {@code 10.213.N.0/24} (starting at a random N, so two
   * runs at once rarely try the same one; the engine refuses an overlapping subnet and the next one
   * is tried).
   */
  public static StaticNetwork create() throws IOException {
    Set<String> used = new HashSet<>();
    Matcher existing = SUBNET.matcher(request("GET", "/v4.0.0/libpod/networks/json", null).body);
    while (existing.find()) {
      used.add(existing.group(1));
    }
    String name = "keyrotor-chaos-" + Long.toHexString(System.nanoTime());
    int start = ThreadLocalRandom.current().nextInt(256);
    IOException last = null;
    for (int i = 0; i < 256; i++) {
      int octet = (start + i) % 256;
      String subnet = PREFIX + octet + ".0/24";
      if (used.contains(subnet)) {
        continue;
      }
      String body =
          "{\"name\":\""
              + name
              + "\",\"driver\":\"bridge\",\"dns_enabled\":false,\"internal\":false,"
              + "\"subnets\":[{\"subnet\":\""
              + subnet
              + "\",\"gateway\":\""
              + PREFIX
              + octet
              + ".1\"}],\"labels\":{\"org.testcontainers\":\"true\"}}";
      Response created = request("POST", "/v4.0.0/libpod/networks/create", body);
      if (created.status / 100 != 2) {
        last = new IOException("creating network " + name + " on " + subnet + ": " + created);
        continue;
      }
      StaticNetwork network = new StaticNetwork(name, field(created.body, "id"), octet);
      String inspected = request("GET", "/v4.0.0/libpod/networks/" + name + "/json", null).body;
      if (!inspected.matches("(?s).*\"dns_enabled\"\\s*:\\s*false.*")) {
        network.close();
        throw new IOException("the engine created " + name + " with DNS enabled: " + inspected);
      }
      return network;
    }
    throw last != null ? last : new IOException("no free " + PREFIX + "N.0/24 subnet");
  }

  /** The fixed address of host number {@code host} (2-254) on this network. */
  public String address(int host) {
    if (host < 2 || host > 254) {
      throw new IllegalArgumentException("host number out of range: " + host);
    }
    return PREFIX + thirdOctet + "." + host;
  }

  public String subnet() {
    return PREFIX + thirdOctet + ".0/24";
  }

  @Override
  public String getId() {
    return id;
  }

  /** Removes the network (after its containers). Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      request("DELETE", "/v4.0.0/libpod/networks/" + name + "?force=true", null);
    } catch (IOException e) {
      // scripts/container-engine sweep removes it (label org.testcontainers=true)
    }
  }

  private static String field(String json, String field) throws IOException {
    Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    if (!m.find()) {
      throw new IOException("no " + field + " in the engine's answer: " + json);
    }
    return m.group(1);
  }

  private record Response(int status, String body) {
    @Override
    public String toString() {
      return "HTTP " + status + " " + body;
    }
  }

  /** One HTTP/1.0 request on the engine's Unix socket (no TCP, nothing but the local engine). */
  private static Response request(String method, String path, String json) throws IOException {
    String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "");
    if (!dockerHost.startsWith("unix://")) {
      throw new IOException("DOCKER_HOST must be the engine's unix:// socket, not " + dockerHost);
    }
    byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
    String head =
        method
            + " "
            + path
            + " HTTP/1.0\r\nHost: engine\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(
          UnixDomainSocketAddress.of(Path.of(dockerHost.substring("unix://".length()))));
      ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
      out.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
      while (out.hasRemaining()) {
        channel.write(out);
      }
      ByteArrayOutputStream in = new ByteArrayOutputStream();
      ByteBuffer buffer = ByteBuffer.allocate(8192);
      while (channel.read(buffer) >= 0) {
        in.write(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
      String response = in.toString(StandardCharsets.UTF_8);
      int headEnd = response.indexOf("\r\n\r\n");
      String[] statusLine = response.substring(0, Math.max(headEnd, 0)).split(" ", 3);
      if (headEnd < 0 || statusLine.length < 2) {
        throw new IOException("unexpected answer from the engine: " + response);
      }
      return new Response(Integer.parseInt(statusLine[1]), response.substring(headEnd + 4));
    }
  }
}
