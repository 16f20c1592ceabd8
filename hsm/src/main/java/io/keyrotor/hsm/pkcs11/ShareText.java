package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** The line-based text form of share ceremony messages: a kind line, then {@code key=value}. */
final class ShareText {
  private final String kind;
  private final Map<String, String> fields = new LinkedHashMap<>();

  ShareText(String kind) {
    this.kind = kind;
  }

  ShareText put(String key, String value) {
    fields.put(key, value);
    return this;
  }

  ShareText putBytes(String key, byte[] value) {
    return put(key, Base64.getEncoder().encodeToString(value));
  }

  String encode() {
    StringBuilder text = new StringBuilder(kind).append('\n');
    fields.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
    return text.toString();
  }

  static ShareText decode(String kind, String text) throws HsmException {
    String[] lines = text.strip().split("\r?\n", -1);
    if (lines.length == 0 || !lines[0].strip().equals(kind)) {
      throw invalid(kind, "it does not start with '" + kind + "'");
    }
    ShareText parsed = new ShareText(kind);
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      int equals = line.indexOf('=');
      if (equals <= 0) {
        throw invalid(kind, "line " + (i + 1) + " is not key=value");
      }
      parsed.put(line.substring(0, equals), line.substring(equals + 1));
    }
    return parsed;
  }

  String get(String key) throws HsmException {
    String value = fields.get(key);
    if (value == null || value.isEmpty()) {
      throw invalid(kind, "it has no '" + key + "'");
    }
    return value;
  }

  byte[] getBytes(String key) throws HsmException {
    try {
      return Base64.getDecoder().decode(get(key));
    } catch (IllegalArgumentException e) {
      throw invalid(kind, "'" + key + "' is not base64");
    }
  }

  ZoneMasterKeyId zoneMasterKey() throws HsmException {
    String zone = ZoneMasterKeys.requireValidZone(get("zone"));
    try {
      int version = Integer.parseInt(get("version"));
      if (version < 1) {
        throw invalid(kind, "version must be at least 1");
      }
      return new ZoneMasterKeyId(zone, version);
    } catch (NumberFormatException e) {
      throw invalid(kind, "version is not a number");
    }
  }

  private static HsmException invalid(String kind, String why) {
    return new HsmException(Reason.INVALID_REQUEST, "not a valid " + kind + ": " + why);
  }
}
