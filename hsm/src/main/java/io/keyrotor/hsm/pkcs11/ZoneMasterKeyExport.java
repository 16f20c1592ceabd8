package io.keyrotor.hsm.pkcs11;

/**
 * Whether a zone master key token object can ever leave its token (always wrapped, never in
 * plaintext: every ZMK is {@code CKA_SENSITIVE}, so its value can never be read).
 *
 * <p>PKCS#11 lets {@code CKA_EXTRACTABLE} go from true to false but never back, and {@code
 * C_WrapKey} refuses a non-extractable key even under a trusted key. So a key that must be shared
 * with other nodes' HSMs is created extractable but {@code CKA_WRAP_WITH_TRUSTED}: only a public
 * key that this token's security officer marked {@code CKA_TRUSTED} can wrap it out, which is
 * exactly the share ceremony.
 */
public enum ZoneMasterKeyExport {
  /**
   * {@code CKA_EXTRACTABLE=true, CKA_WRAP_WITH_TRUSTED=true}: can be wrapped out only under a key
   * the security officer trusted (the share ceremony). Default for keys a zone's first node
   * creates.
   */
  TRUSTED_WRAP_ONLY,
  /**
   * {@code CKA_EXTRACTABLE=false}: can never leave this token. Default for the copies a share
   * ceremony imports, and for zones served by a single node.
   */
  NEVER
}
