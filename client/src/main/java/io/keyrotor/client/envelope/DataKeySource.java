package io.keyrotor.client.envelope;

import java.util.Map;

/** Where data keys come from and go back to: the server's GenerateDataKey and Decrypt. */
interface DataKeySource {

  /**
   * A fresh 256-bit data key and its wrapped form under {@code keyName}'s primary version, bound to
   * {@code context}.
   */
  DataKey generate(String keyName, Map<String, String> context);

  /** The data key inside {@code wrapped}, which must have been bound to the same context. */
  DataKey unwrap(byte[] wrapped, Map<String, String> context);
}
