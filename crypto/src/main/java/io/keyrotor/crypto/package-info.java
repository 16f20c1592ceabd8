/**
 * What the server and the SDK both do to bytes, written once: key bytes in memory ({@link
 * io.keyrotor.crypto.SecretBytes}), AES-GCM ({@link io.keyrotor.crypto.AesGcm}) and the canonical
 * encoding of an encryption context with its rules ({@link io.keyrotor.crypto.EncryptionContext});
 * the JDK only.
 */
package io.keyrotor.crypto;
