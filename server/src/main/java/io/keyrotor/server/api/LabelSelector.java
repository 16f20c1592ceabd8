package io.keyrotor.server.api;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import java.util.Map;

/**
 * A label selector of ListKeys: a key matches when it carries every wanted label with the wanted
 * value (an empty selector matches every key).
 */
record LabelSelector(Map<String, String> wanted) {
  LabelSelector {
    wanted = Map.copyOf(wanted);
  }

  boolean matches(KeyRecord key) {
    for (Map.Entry<String, String> label : wanted.entrySet()) {
      if (!carries(key, label.getKey(), label.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean carries(KeyRecord key, String labelKey, String value) {
    for (Label label : key.getLabelsList()) {
      if (label.getKey().equals(labelKey) && label.getValue().equals(value)) {
        return true;
      }
    }
    return false;
  }
}
