package io.keyrotor.client.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AuditKeyRegistration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Audit public keys as a PEM file: each key a {@code PUBLIC KEY} block (X.509 SubjectPublicKeyInfo)
 * preceded by the line {@code keyrotor-audit-key: <node>/<version>} that names it (text outside the
 * blocks is explanatory under RFC 7468, so any PEM reader still reads the keys).
 */
public final class AuditKeysPem {
  private static final String NAME_LINE = "keyrotor-audit-key: ";
  private static final Pattern BLOCK =
      Pattern.compile(
          "keyrotor-audit-key: *([^\\s/]+)/(\\d+)\\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\\s]*)"
              + "-----END PUBLIC KEY-----");

  private AuditKeysPem() {}

  /** The PEM text of {@code keys}, in the order given. */
  public static String write(List<AuditKeyRegistration> keys) {
    StringBuilder out = new StringBuilder();
    for (AuditKeyRegistration key : keys) {
      out.append(NAME_LINE)
          .append(key.getNode())
          .append('/')
          .append(key.getKeyVersion())
          .append('\n')
          .append("-----BEGIN PUBLIC KEY-----\n")
          .append(
              Base64.getMimeEncoder(64, new byte[] {'\n'})
                  .encodeToString(key.getPublicKey().toByteArray()))
          .append("\n-----END PUBLIC KEY-----\n");
    }
    return out.toString();
  }

  /**
   * The named keys of a PEM text written by {@link #write}.
   *
   * @throws IllegalArgumentException when it holds no named key
   */
  public static List<AuditKeyRegistration> read(String pem) {
    List<AuditKeyRegistration> keys = new ArrayList<>();
    Matcher m = BLOCK.matcher(pem);
    while (m.find()) {
      keys.add(
          AuditKeyRegistration.newBuilder()
              .setNode(m.group(1))
              .setKeyVersion(Integer.parseInt(m.group(2)))
              .setPublicKey(ByteString.copyFrom(Base64.getMimeDecoder().decode(m.group(3).trim())))
              .build());
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(
          "no audit key found: each key is a PUBLIC KEY block after a line"
              + " 'keyrotor-audit-key: <node>/<version>'");
    }
    return keys;
  }
}
