package io.keyrotor.server.audit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One audit event as the sinks send it: a flat JSON object of strings and numbers, fields in the
 * order they were added. Written by hand (the server has no JSON library at run time); strings are
 * escaped as RFC 8259 requires.
 */
public final class AuditEvent {
  private final Map<String, Object> fields = new LinkedHashMap<>();

  AuditEvent put(String name, String value) {
    fields.put(name, value);
    return this;
  }

  AuditEvent put(String name, long value) {
    fields.put(name, value);
    return this;
  }

  /** The value of a string field, or "". */
  public String string(String name) {
    Object value = fields.get(name);
    return value instanceof String s ? s : "";
  }

  /** The event as one line of JSON. */
  public String toJson() {
    StringBuilder out = new StringBuilder(256).append('{');
    boolean first = true;
    for (Map.Entry<String, Object> field : fields.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      quote(out, field.getKey());
      out.append(':');
      if (field.getValue() instanceof String s) {
        quote(out, s);
      } else {
        out.append(field.getValue());
      }
    }
    return out.append('}').toString();
  }

  @Override
  public String toString() {
    return toJson();
  }

  private static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
