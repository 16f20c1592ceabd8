/**
 * Certificates for mutual TLS: PEM files ({@link io.keyrotor.tls.PemFiles}), the development CA
 * ({@link io.keyrotor.tls.DevelopmentCa}), the identities certificates carry ({@link
 * io.keyrotor.tls.Identities}), and key and trust managers that follow changed files ({@link
 * io.keyrotor.tls.ReloadingCredentials}).
 */
package io.keyrotor.tls;
