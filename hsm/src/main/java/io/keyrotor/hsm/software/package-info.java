/**
 * The embedded software HSM for development: zone master keys in a passphrase-protected PKCS12 key
 * file, wrapped and unwrapped with the JDK's AES key wrap and AES-GCM.
 */
package io.keyrotor.hsm.software;
