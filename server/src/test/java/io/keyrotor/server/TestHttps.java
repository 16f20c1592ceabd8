package io.keyrotor.server;

import io.keyrotor.tls.PemFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS callers of a local cluster's HTTP endpoint (status page, metrics, JSON gateway) with the
 * JDK's HTTP client: they trust the cluster's CA ({@code DIR/tls/ca.pem}) and present one of the
 * cluster's caller certificates ({@code DIR/tls/NAME.pem}, {@code NAME-key.pem}), or none.
 */
final class TestHttps {
  /** Generous: the machine may be loaded; nothing here measures speed. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(90);

  private static final char[] NO_PASSWORD = new char[0];

  private TestHttps() {}

  /** A client presenting {@code tls/NAME.pem} ({@code name} null: no client certificate). */
  static HttpClient clientAs(Path tlsDirectory, String name) throws Exception {
    return HttpClient.newBuilder()
        .sslContext(sslContext(tlsDirectory, name))
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  static HttpResponse<String> get(HttpClient client, String url) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs the JSON {@code body}. */
  static HttpResponse<String> post(HttpClient client, String url, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** TLS trusting {@code tls/ca.pem}, presenting {@code tls/NAME.pem} (none if null). */
  static SSLContext sslContext(Path tlsDirectory, String name) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    List<X509Certificate> cas = PemFiles.readCertificates(tlsDirectory.resolve("ca.pem"));
    for (int i = 0; i < cas.size(); i++) {
      trust.setCertificateEntry("ca" + i, cas.get(i));
    }
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    if (name != null) {
      keys.setKeyEntry(
          name,
          PemFiles.readPrivateKey(tlsDirectory.resolve(name + "-key.pem")),
          NO_PASSWORD,
          PemFiles.readCertificates(tlsDirectory.resolve(name + ".pem"))
              .toArray(X509Certificate[]::new));
    }
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, NO_PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }
}
