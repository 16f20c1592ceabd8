package io.keyrotor.hsm;

/**
 * How a key-encryption key was wrapped under a zone master key. Recorded with every wrapped key so
 * a node with different hardware can still tell how to unwrap it. Names are stable: they are stored
 * in the replicated state.
 */
public enum WrapMechanism {
  /** AES key wrap with padding, RFC 5649 (PKCS#11 CKM_AES_KEY_WRAP_PAD / CKM_AES_KEY_WRAP_KWP). */
  AES_KEY_WRAP_PAD,
  /**
   * AES key wrap, RFC 3394 (PKCS#11 CKM_AES_KEY_WRAP); needs key lengths that are multiples of 8.
   */
  AES_KEY_WRAP,
  /**
   * AES-GCM encryption of the key bytes with a 96-bit random nonce and a 128-bit tag (nonce ||
   * ciphertext || tag), for modules whose C_WrapKey does not offer a key wrap mechanism.
   */
  AES_GCM;

  /** Parses a stored mechanism name. */
  public static WrapMechanism fromStoredName(String name) throws HsmException {
    try {
      return valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new HsmException(
          HsmException.Reason.UNSUPPORTED_MECHANISM, "unknown wrap mechanism '" + name + "'");
    }
  }
}
