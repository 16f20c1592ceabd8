package io.keyrotor.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The key and trust managers of one end of mutual TLS, read from its {@link TlsFiles} and read
 * again when the files change: a certificate rotates without a restart. At most once per {@code
 * checkInterval}, a handshake first looks at the files' sizes and modification times; if they
 * changed and the new files make a consistent set (the key matches the certificate, the CA file
 * parses), every later handshake uses them. A set that does not load (a half-copied file) is kept
 * out, and the previous one stays in use until a good set appears.
 *
 * <p>Handshakes already under way, and connections already made, keep what they started with.
 */
public final class ReloadingCredentials {
  private static final System.Logger LOG = System.getLogger(ReloadingCredentials.class.getName());

  /** The credentials in use: what the files held when last read. */
  public record Snapshot(
      long generation,
      List<X509Certificate> chain,
      PrivateKey privateKey,
      X509ExtendedTrustManager trustManager,
      List<X509Certificate> trustedCertificates,
      String fileStamp) {
    /** The alias the key manager gives this snapshot's certificate. */
    String alias() {
      return "keyrotor-" + generation;
    }

    /** The leaf certificate's end of validity. */
    public Instant notAfter() {
      return chain.get(0).getNotAfter().toInstant();
    }
  }

  private final TlsFiles files;
  private final Duration checkInterval;
  private final Clock clock;
  private final Object reloadLock = new Object();
  private volatile Snapshot current;
  private volatile Snapshot previous;
  private volatile long nextCheckMillis;
  private volatile String lastFailure = "";

  private ReloadingCredentials(
      TlsFiles files, Duration checkInterval, Clock clock, Snapshot first) {
    this.files = files;
    this.checkInterval = checkInterval;
    this.clock = clock;
    this.current = first;
    this.previous = first;
    this.nextCheckMillis = clock.millis() + checkInterval.toMillis();
  }

  /**
   * Reads {@code files} now (so a bad set fails at start-up, with a message naming the file) and
   * again, when they change, at most once per {@code checkInterval}.
   */
  public static ReloadingCredentials open(TlsFiles files, Duration checkInterval, Clock clock)
      throws IOException {
    return new ReloadingCredentials(files, checkInterval, clock, load(files, stamp(files), 0));
  }

  /** The files these credentials come from. */
  public TlsFiles files() {
    return files;
  }

  /** What is in use now (after a change check, if one is due). */
  public Snapshot current() {
    maybeReload();
    return current;
  }

  /** Why the last change to the files could not be used, or empty if the last read worked. */
  public String lastReloadFailure() {
    return lastFailure;
  }

  /** Reads the files now if they changed since the last read; true if a new set is in use. */
  public boolean reloadNow() {
    synchronized (reloadLock) {
      nextCheckMillis = clock.millis() + checkInterval.toMillis();
      String stamp;
      try {
        stamp = stamp(files);
      } catch (IOException e) {
        lastFailure = e.getMessage();
        return false;
      }
      if (stamp.equals(current.fileStamp())) {
        return false;
      }
      try {
        Snapshot next = load(files, stamp, current.generation() + 1);
        previous = current;
        current = next;
        lastFailure = "";
        LOG.log(
            System.Logger.Level.INFO,
            "TLS certificate reloaded from {0}: {1}, valid until {2}",
            files.certificate(),
            current.chain().get(0).getSubjectX500Principal().getName(),
            current.notAfter());
        return true;
      } catch (IOException e) {
        if (!e.getMessage().equals(lastFailure)) {
          LOG.log(
              System.Logger.Level.WARNING,
              "TLS files changed but cannot be used yet; keeping the previous certificate: {0}",
              e.getMessage());
        }
        lastFailure = e.getMessage();
        return false;
      }
    }
  }

  private void maybeReload() {
    if (clock.millis() >= nextCheckMillis) {
      reloadNow();
    }
  }

  /** A key manager that always presents the current certificate. */
  public X509ExtendedKeyManager keyManager() {
    return new KeyManager();
  }

  /** A trust manager that always checks against the current trusted CA certificates. */
  public X509ExtendedTrustManager trustManager() {
    return new TrustManagerView();
  }

  private static String stamp(TlsFiles files) throws IOException {
    StringBuilder stamp = new StringBuilder();
    for (Path file :
        List.of(files.certificate(), files.privateKey(), files.trustedCertificates())) {
      BasicFileAttributes attributes;
      try {
        attributes = Files.readAttributes(file, BasicFileAttributes.class);
      } catch (IOException e) {
        throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
      }
      stamp.append(attributes.lastModifiedTime().toMillis()).append('/');
      stamp.append(attributes.size()).append('/');
      stamp.append(attributes.fileKey()).append(';');
    }
    return stamp.toString();
  }

  private static Snapshot load(TlsFiles files, String stamp, long generation) throws IOException {
    List<X509Certificate> chain = PemFiles.readCertificates(files.certificate());
    PrivateKey key = PemFiles.readPrivateKey(files.privateKey());
    List<X509Certificate> trusted = PemFiles.readCertificates(files.trustedCertificates());
    try {
      KeyStore anchors = KeyStore.getInstance("PKCS12");
      anchors.load(null, null);
      for (int i = 0; i < trusted.size(); i++) {
        anchors.setCertificateEntry("ca-" + i, trusted.get(i));
      }
      TrustManagerFactory trustFactory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustFactory.init(anchors);
      X509ExtendedTrustManager trustManager = null;
      for (TrustManager manager : trustFactory.getTrustManagers()) {
        if (manager instanceof X509ExtendedTrustManager x509) {
          trustManager = x509;
        }
      }
      Objects.requireNonNull(trustManager, "the JDK has no X.509 trust manager");
      checkKeyMatches(chain.get(0), key, files);
      return new Snapshot(generation, chain, key, trustManager, trusted, stamp);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "cannot use "
              + files.certificate()
              + " and "
              + files.privateKey()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static void checkKeyMatches(X509Certificate certificate, PrivateKey key, TlsFiles files)
      throws IOException, GeneralSecurityException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519" -> "Ed25519";
          default ->
              throw new IOException(
                  files.privateKey()
                      + " holds a "
                      + key.getAlgorithm()
                      + " key, not EC, RSA or Ed25519");
        };
    byte[] probe = "keyrotor key check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(probe);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(probe);
    if (!verifier.verify(signature)) {
      throw new IOException(files.privateKey() + " is not the key of " + files.certificate());
    }
  }

  /**
   * Presents the current certificate. Its alias names the snapshot it came from, so a handshake
   * that chose an alias just before a reload still gets a matching certificate and key.
   */
  private final class KeyManager extends X509ExtendedKeyManager {
    private String alias(String keyType) {
      Snapshot snapshot = current();
      String algorithm = snapshot.privateKey().getAlgorithm();
      return keyType != null && (keyType.equals(algorithm) || keyType.startsWith(algorithm + "_"))
          ? snapshot.alias()
          : null;
    }

    private String alias(String[] keyTypes) {
      if (keyTypes == null) {
        return null;
      }
      for (String keyType : keyTypes) {
        String alias = alias(keyType);
        if (alias != null) {
          return alias;
        }
      }
      return null;
    }

    private Snapshot snapshot(String alias) {
      Snapshot now = current;
      if (now.alias().equals(alias)) {
        return now;
      }
      Snapshot before = previous;
      return before.alias().equals(alias) ? before : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      String alias = alias(keyType);
      return alias == null ? null : new String[] {alias};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      Snapshot snapshot = snapshot(alias);
      return snapshot == null ? null : snapshot.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      Snapshot snapshot = snapshot(alias);
      return snapshot == null ? null : snapshot.privateKey();
    }
  }

  private final class TrustManagerView extends X509ExtendedTrustManager {
    private X509ExtendedTrustManager delegate() {
      return current().trustManager();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate().getAcceptedIssuers();
    }
  }
}
