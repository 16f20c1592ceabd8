/**
 * The PKCS#11 HSM (SoftHSM2 in tests, any PKCS#11 v2.40 module in production) over ipkcs11wrapper:
 * token lookup by label, capability discovery, a session pool, and the key ceremonies (create a
 * zone, share a zone between tokens).
 */
package io.keyrotor.hsm.pkcs11;
