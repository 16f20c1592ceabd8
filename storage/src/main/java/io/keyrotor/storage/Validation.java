package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The syntactic rules of names, labels and policies. The server checks them before proposing (so
 * bad input never reaches the log) and apply checks them again, deterministically, because a
 * command in the log may come from any proposer.
 */
public final class Validation {
  /** Longest key name. */
  public static final int MAX_KEY_NAME_LENGTH = 128;

  /** Longest zone name. */
  public static final int MAX_ZONE_NAME_LENGTH = 64;

  /** Most labels per key. */
  public static final int MAX_LABELS = 64;

  /** Longest label value, in characters. */
  public static final int MAX_LABEL_VALUE_LENGTH = 256;

  private static final Pattern KEY_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern ZONE_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_.-]{0,62}");

  private Validation() {}

  /** An error message for an invalid key name, or empty if it is valid. */
  public static Optional<String> checkKeyName(String name) {
    if (name == null || name.isEmpty()) {
      return Optional.of("a key name is required");
    }
    if (name.length() > MAX_KEY_NAME_LENGTH) {
      return Optional.of(
          "key name is " + name.length() + " characters long; the limit is " + MAX_KEY_NAME_LENGTH);
    }
    if (!KEY_NAME.matcher(name).matches()) {
      return Optional.of(
          "key name \""
              + printable(name)
              + "\" is invalid: use letters, digits, '.', '_' and '-', starting with a letter or"
              + " digit");
    }
    return Optional.empty();
  }

  /** An error message for an invalid zone name, or empty if it is valid. */
  public static Optional<String> checkZoneName(String zone) {
    if (zone == null || zone.isEmpty()) {
      return Optional.of("a zone is required");
    }
    if (!ZONE_NAME.matcher(zone).matches()) {
      return Optional.of(
          "zone \""
              + printable(zone)
              + "\" is invalid: use 1-64 lower-case letters, digits, '_' and '-'");
    }
    return Optional.empty();
  }

  /** An error message for invalid labels, or empty if they are valid. Labels must be sorted. */
  public static Optional<String> checkLabels(List<Label> labels) {
    if (labels.size() > MAX_LABELS) {
      return Optional.of("a key has at most " + MAX_LABELS + " labels, got " + labels.size());
    }
    String previous = null;
    for (Label label : labels) {
      if (!LABEL_KEY.matcher(label.getKey()).matches()) {
        return Optional.of(
            "label key \""
                + printable(label.getKey())
                + "\" is invalid: use 1-63 lower-case letters, digits, '.', '_' and '-', starting"
                + " with a letter");
      }
      if (label.getValue().length() > MAX_LABEL_VALUE_LENGTH) {
        return Optional.of(
            "label \"" + label.getKey() + "\" is longer than " + MAX_LABEL_VALUE_LENGTH);
      }
      if (previous != null && previous.compareTo(label.getKey()) >= 0) {
        return Optional.of("labels must be unique and sorted by key");
      }
      previous = label.getKey();
    }
    return Optional.empty();
  }

  /**
   * An error message when {@code reason} (of a cancellation or rollback) is longer than {@code
   * maxBytes} in UTF-8, or empty if it fits.
   */
  public static Optional<String> checkReason(String reason, int maxBytes) {
    int bytes = utf8Length(reason);
    if (bytes > maxBytes) {
      return Optional.of("reason is " + bytes + " bytes; the limit is " + maxBytes);
    }
    return Optional.empty();
  }

  /** The length of {@code s} in UTF-8, without encoding it. */
  public static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** An error message for an invalid rotation policy, or empty if it is valid. */
  public static Optional<String> checkPolicy(RotationPolicyRecord policy) {
    if (policy.getRotationPeriodMillis() < 0) {
      return Optional.of("rotation period must be positive");
    }
    if (policy.getActivationDelayMillis() < -1) {
      return Optional.of("activation delay must not be negative");
    }
    if (policy.getDecryptGraceMillis() < 0) {
      return Optional.of("decrypt grace must not be negative");
    }
    if (policy.getNextRotationTimeUnixMillis() < 0) {
      return Optional.of("next rotation time must not be before 1970");
    }
    if (Long.compareUnsigned(policy.getMaxEncryptions(), EncryptionLimits.HARD_LIMIT) > 0) {
      return Optional.of(
          "max_encryptions is "
              + Long.toUnsignedString(policy.getMaxEncryptions())
              + "; a version performs at most "
              + EncryptionLimits.HARD_LIMIT
              + " encryptions (2^31, half of NIST SP 800-38D's 2^32 for AES-GCM with random"
              + " nonces), so a policy may lower the limit but not raise it");
    }
    return Optional.empty();
  }

  private static String printable(String s) {
    StringBuilder out = new StringBuilder();
    s.codePoints()
        .limit(MAX_KEY_NAME_LENGTH + 8)
        .forEach(
            c -> {
              if (c >= 0x20 && c < 0x7f) {
                out.appendCodePoint(c);
              } else {
                out.append(String.format("\\u%04x", c));
              }
            });
    return out.toString();
  }
}
