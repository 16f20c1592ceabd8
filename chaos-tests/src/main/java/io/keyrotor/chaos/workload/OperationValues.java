package io.keyrotor.chaos.workload;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import java.util.Base64;

/** The JSON values the workloads record as operation results (README "Workload conventions"). */
final class OperationValues {
  private OperationValues() {}

  static JsonObject versionObject(int version) {
    JsonObject out = new JsonObject();
    out.addProperty("version", version);
    return out;
  }

  static JsonArray versionsArray(NodeApi.KeyView view) {
    JsonArray out = new JsonArray();
    for (NodeApi.VersionView v : view.versions()) {
      JsonObject o = new JsonObject();
      o.addProperty("version", v.version());
      o.addProperty("activatedAt", v.activationMillis());
      out.add(o);
    }
    return out;
  }

  /** An encrypt's result: the ciphertext (base64) and the version it used. */
  static JsonObject encrypted(NodeApi.Encrypted encrypted) {
    JsonObject out = new JsonObject();
    out.addProperty("ciphertext", base64(encrypted.ciphertext()));
    out.addProperty("version", encrypted.version());
    return out;
  }

  /** A decrypt's result: the plaintext, and the version and key it used. */
  static JsonObject decrypted(NodeApi.Decrypted decrypted) {
    JsonObject out = plaintext(decrypted);
    out.addProperty("version", decrypted.version());
    out.addProperty("key", decrypted.keyName());
    return out;
  }

  /** A final re-decrypt's result: the plaintext only. */
  static JsonObject plaintext(NodeApi.Decrypted decrypted) {
    JsonObject out = new JsonObject();
    out.addProperty("plaintext", decrypted.plaintext().toStringUtf8());
    return out;
  }

  static String base64(ByteString bytes) {
    return Base64.getEncoder().encodeToString(bytes.toByteArray());
  }

  /**
   * W5's reading of a key: its scheduled versions, each with the schedule slot it filled. The
   * scheduler rotates when {@code activation(previous) + period} is due, so consecutive scheduled
   * versions are about one period apart: the first one's slot is its distance from the key's
   * creation in periods, and each next one's slot advances by its distance from the previous one in
   * periods, rounded. Two rotations for one due time (milliseconds apart) land in the same slot (a
   * duplicate); a rotation a little early or late (clock steps between the leader's due check and
   * its stamp, scheduler ticks) does not; a gap of two periods or more counts as missed.
   */
  static JsonArray scheduledSlots(NodeApi.KeyView view, long period) {
    JsonArray out = new JsonArray();
    if (view.versions().isEmpty()) {
      return out;
    }
    long created = view.versions().get(0).createMillis();
    Long previousActivation = null;
    long slot = 0;
    for (NodeApi.VersionView v : view.versions()) {
      if ("SCHEDULED".equals(v.reason())) {
        slot =
            previousActivation == null
                ? Math.round((double) (v.activationMillis() - created) / period)
                : slot + Math.round((double) (v.activationMillis() - previousActivation) / period);
        previousActivation = v.activationMillis();
        JsonObject o = new JsonObject();
        o.addProperty("version", v.version());
        o.addProperty("slot", slot);
        // Evidence for the reader: when it was stamped and activated (leader time).
        o.addProperty("createdAt", v.createMillis());
        o.addProperty("activatedAt", v.activationMillis());
        out.add(o);
      }
    }
    return out;
  }
}
