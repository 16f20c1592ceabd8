package io.keyrotor.client;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The client's TLS material, read from PEM files: the CA certificates it trusts and, for mutual
 * TLS, its own certificate and PKCS#8 key. Checks the files every refresh interval and uses a
 * changed set from the next handshake on, once it loads and the key belongs to the certificate (a
 * certificate copied before its key is kept out until the key arrives). Connections already open
 * keep the certificate they were made with. Servers must speak TLS 1.3 and present a certificate
 * that names the host the client dialled (hostname verification).
 */
final class ClientTls implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ClientTls.class.getName());
  private static final String TLS_1_3 = "TLSv1.3";

  private final Path trustedCertificates;
  private final Path certificate;
  private final Path privateKey;
  private final AdvancedTlsX509TrustManager trust;
  private final AdvancedTlsX509KeyManager identity;
  private final ScheduledExecutorService reloader;
  private final ScheduledFuture<?> schedule;
  private final Object lock = new Object();
  // The session caches of the TLS contexts that gRPC made from these credentials (one per channel),
  // learned from full handshakes: emptied after a reload, because a resumed TLS session carries the
  // identity of the handshake that made it, not the certificate now on disk.
  private final Set<SSLSessionContext> sessionCaches =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private List<FileStamp> loaded;
  private String lastFailure;

  private ClientTls(
      Path trustedCertificates,
      Path certificate,
      Path privateKey,
      AdvancedTlsX509TrustManager trust,
      AdvancedTlsX509KeyManager identity,
      Duration refresh) {
    this.trustedCertificates = trustedCertificates;
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.trust = trust;
    this.identity = identity;
    this.reloader =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "keyrotor-client-tls-reload");
              thread.setDaemon(true);
              return thread;
            });
    long period = refresh.toMillis();
    this.schedule =
        reloader.scheduleWithFixedDelay(
            this::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the files once and starts watching them.
   *
   * @param certificate the client's certificate chain, or null for TLS without a client certificate
   *     (then {@code privateKey} is null too)
   * @throws IllegalArgumentException naming the file that is missing or does not parse, or saying
   *     that the key does not belong to the certificate
   */
  static ClientTls open(
      Path trustedCertificates, Path certificate, Path privateKey, Duration refresh) {
    Objects.requireNonNull(trustedCertificates, "trustedCertificates");
    AdvancedTlsX509TrustManager trust;
    try {
      trust =
          AdvancedTlsX509TrustManager.newBuilder()
              .setVerification(
                  AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
              .build();
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot make a TLS trust manager", e);
    }
    AdvancedTlsX509KeyManager identity =
        certificate == null ? null : new AdvancedTlsX509KeyManager();
    ClientTls tls =
        new ClientTls(trustedCertificates, certificate, privateKey, trust, identity, refresh);
    try {
      synchronized (tls.lock) {
        tls.load();
      }
    } catch (IllegalArgumentException e) {
      tls.close();
      throw e;
    }
    return tls;
  }

  /** Credentials for gRPC channels: TLS 1.3, the trusted CAs, the client certificate if any. */
  ChannelCredentials credentials() {
    TlsChannelCredentials.Builder builder =
        TlsChannelCredentials.newBuilder().trustManager(new Tls13Only(trust, sessionCaches));
    if (identity != null) {
      builder.keyManager(identity);
    }
    return builder.build();
  }

  /** Why the last changed set of files was not used, or null if the last check loaded it. */
  String lastReloadFailure() {
    synchronized (lock) {
      return lastFailure;
    }
  }

  /** Checks the files now (the reloader does so every refresh interval). */
  void reloadIfChanged() {
    synchronized (lock) {
      List<FileStamp> now;
      try {
        now = stamps();
      } catch (IOException e) {
        fail("cannot read TLS files: " + e.getMessage());
        return;
      }
      if (now.equals(loaded)) {
        return;
      }
      try {
        load();
        forgetSessions();
        lastFailure = null;
        LOG.log(Level.INFO, "loaded changed TLS files ({0})", describeFiles());
      } catch (RuntimeException e) {
        // Kept out; the next check tries again (a key written after its certificate arrives).
        fail(e.getMessage());
      }
    }
  }

  /** Makes every later connection a full handshake, with the material just loaded. */
  private void forgetSessions() {
    List<SSLSessionContext> caches;
    synchronized (sessionCaches) {
      caches = new ArrayList<>(sessionCaches);
    }
    for (SSLSessionContext cache : caches) {
      for (byte[] id : Collections.list(cache.getIds())) {
        SSLSession session = cache.getSession(id);
        if (session != null) {
          session.invalidate();
        }
      }
    }
  }

  private void fail(String reason) {
    if (!reason.equals(lastFailure)) {
      LOG.log(Level.WARNING, "keeping the current TLS material: {0}", reason);
    }
    lastFailure = reason;
  }

  /** Reads every file and installs them; the caller holds the lock. */
  private void load() {
    List<FileStamp> before;
    try {
      before = stamps();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read TLS files: " + e.getMessage(), e);
    }
    X509Certificate[] roots = readCertificates(trustedCertificates);
    X509Certificate[] chain = null;
    PrivateKey key = null;
    if (certificate != null) {
      chain = readCertificates(certificate);
      key = readPrivateKey(privateKey);
      checkKeyMatches(chain[0], key);
    }
    try {
      trust.updateTrustCredentials(roots);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot use the CA certificates in " + trustedCertificates + ": " + e.getMessage(), e);
    }
    if (identity != null) {
      identity.updateIdentityCredentials(chain, key);
    }
    loaded = before;
  }

  private static X509Certificate[] readCertificates(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      X509Certificate[] certificates = CertificateUtils.getX509Certificates(in);
      if (certificates.length == 0) {
        throw new IllegalArgumentException("no PEM certificate in " + file);
      }
      return certificates;
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "cannot read certificates from " + file + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey readPrivateKey(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return CertificateUtils.getPrivateKey(in);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      // The message never carries key material: the parser reports formats, not bytes.
      throw new IllegalArgumentException(
          "cannot read a PKCS#8 PEM private key from " + file + ": " + e.getMessage(), e);
    }
  }

  /** Signs a random challenge with {@code key} and verifies it with the certificate's key. */
  private void checkKeyMatches(X509Certificate leaf, PrivateKey key) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> null;
        };
    if (algorithm == null) {
      return;
    }
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(challenge);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new IllegalArgumentException(
          "the private key in "
              + privateKey
              + " does not belong to the certificate in "
              + certificate);
    }
  }

  private List<FileStamp> stamps() throws IOException {
    List<FileStamp> stamps = new ArrayList<>();
    stamps.add(FileStamp.of(trustedCertificates));
    if (certificate != null) {
      stamps.add(FileStamp.of(certificate));
      stamps.add(FileStamp.of(privateKey));
    }
    return stamps;
  }

  private String describeFiles() {
    return certificate == null
        ? trustedCertificates.toString()
        : trustedCertificates + ", " + certificate + ", " + privateKey;
  }

  @Override
  public void close() {
    schedule.cancel(false);
    reloader.shutdownNow();
  }

  /** A file's size and modification time: changed when a new file replaced it. */
  private record FileStamp(Path file, long size, long modifiedNanos, Object key) {
    static FileStamp of(Path file) throws IOException {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return new FileStamp(
          file,
          attributes.size(),
          attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
          attributes.fileKey());
    }
  }

  /**
   * Checks the server with gRPC's trust manager (chain to a trusted CA, hostname verification) and
   * refuses any protocol but TLS 1.3.
   */
  private static final class Tls13Only extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final Set<SSLSessionContext> sessionCaches;

    Tls13Only(X509ExtendedTrustManager delegate, Set<SSLSessionContext> sessionCaches) {
      this.delegate = delegate;
      this.sessionCaches = sessionCaches;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(engine == null ? null : engine.getHandshakeSession());
      delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
      delegate.checkServerTrusted(chain, authType, socket);
    }

    private void check(SSLSession session) throws CertificateException {
      requireTls13(session);
      SSLSessionContext cache = session.getSessionContext();
      if (cache != null) {
        sessionCaches.add(cache);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a keyrotor client does not accept connections");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a keyrotor client does not accept connections");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a keyrotor client does not accept connections");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }

    private static void requireTls13(SSLSession session) throws CertificateException {
      if (session == null || !TLS_1_3.equals(session.getProtocol())) {
        throw new CertificateException(
            "the server negotiated "
                + (session == null ? "no known protocol" : session.getProtocol())
                + "; keyrotor clients require "
                + TLS_1_3);
      }
    }
  }
}
