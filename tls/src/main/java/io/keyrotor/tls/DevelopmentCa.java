package io.keyrotor.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority for development and test clusters: an ECDSA P-256 root that issues node
 * certificates (server and client use, the node's addresses as subject alternative names and its id
 * as a {@code spiffe://TRUST-DOMAIN/keyrotor/node/ID} URI) and caller certificates (client use, the
 * principal as common name, optionally a URI). {@code scripts/cluster up} makes one per cluster and
 * keeps it under {@code DIR/tls}; production clusters bring certificates from their own CA.
 */
public final class DevelopmentCa {
  /** The trust domain of development clusters' node URIs. */
  public static final String DEFAULT_TRUST_DOMAIN = "keyrotor.local";

  private static final Pattern IP_ADDRESS = Pattern.compile("[0-9.]+|.*:.*");
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final String trustDomain;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private DevelopmentCa(
      X509Certificate certificate, PrivateKey privateKey, String trustDomain, Clock clock) {
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  /** A new root named {@code commonName}, valid from now for {@code validity}. */
  public static DevelopmentCa create(
      String commonName, String trustDomain, Duration validity, Clock clock) {
    KeyPair keys = newKeyPair();
    Instant now = clock.instant();
    X500Principal subject = new X500Principal("CN=" + commonName + ", O=keyrotor development CA");
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            serial(new SecureRandom()),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(validity)),
            subject,
            keys.getPublic());
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(
              Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(
              Extension.subjectKeyIdentifier,
              false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()));
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a CA certificate", e);
    }
    return new DevelopmentCa(
        sign(builder, keys.getPrivate()), keys.getPrivate(), trustDomain, clock);
  }

  /** The CA kept in {@code certificateFile} and {@code keyFile} (as {@link #write} left them). */
  public static DevelopmentCa load(
      Path certificateFile, Path keyFile, String trustDomain, Clock clock) throws IOException {
    X509Certificate certificate = PemFiles.readCertificates(certificateFile).get(0);
    return new DevelopmentCa(certificate, PemFiles.readPrivateKey(keyFile), trustDomain, clock);
  }

  /** The root certificate: what nodes and clients trust. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The trust domain of the node URIs this CA writes. */
  public String trustDomain() {
    return trustDomain;
  }

  /** Writes the root certificate and (0600) its key. */
  public void write(Path certificateFile, Path keyFile) throws IOException {
    PemFiles.writePrivateKey(keyFile, privateKey);
    PemFiles.writeCertificates(certificateFile, List.of(certificate));
  }

  /**
   * A node's certificate, for both ends of TLS: {@code hosts} (names and IP addresses) as DNS and
   * IP subject alternative names, and the node URI of {@code nodeId}.
   */
  public IssuedCertificate issueNode(String nodeId, List<String> hosts, Duration validity) {
    Instant now = clock.instant();
    return issue(
        new Request(
            nodeId,
            hosts,
            List.of(Identities.nodeUri(trustDomain, nodeId)),
            now.minus(BACKDATE),
            now.plus(validity),
            true));
  }

  /** A caller's certificate (client use only) whose principal is {@code commonName}. */
  public IssuedCertificate issueClient(String commonName, Duration validity) {
    Instant now = clock.instant();
    return issue(
        new Request(
            commonName, List.of(), List.of(), now.minus(BACKDATE), now.plus(validity), false));
  }

  /**
   * What a certificate says: its subject's common name, host names and addresses, URIs, validity,
   * and whether it may serve (node certificates) as well as call.
   */
  public record Request(
      String commonName,
      List<String> hosts,
      List<String> uris,
      Instant notBefore,
      Instant notAfter,
      boolean server) {
    public Request {
      Objects.requireNonNull(commonName, "commonName");
      hosts = List.copyOf(hosts);
      uris = List.copyOf(uris);
      if (!notAfter.isAfter(notBefore)) {
        throw new IllegalArgumentException("a certificate's validity ends after it starts");
      }
    }
  }

  /** A certificate as {@code request} says, signed by this CA (tests ask for expired ones too). */
  public IssuedCertificate issue(Request request) {
    KeyPair keys = newKeyPair();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            certificate,
            serial(random),
            Date.from(request.notBefore()),
            Date.from(request.notAfter()),
            new X500Principal("CN=" + request.commonName() + ", O=keyrotor"),
            keys.getPublic());
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(
              Extension.keyUsage,
              true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          .addExtension(
              Extension.extendedKeyUsage,
              false,
              request.server()
                  ? new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      })
                  : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
          .addExtension(
              Extension.authorityKeyIdentifier,
              false,
              extensions.createAuthorityKeyIdentifier(certificate))
          .addExtension(
              Extension.subjectKeyIdentifier,
              false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()));
      List<GeneralName> names = new ArrayList<>();
      for (String host : request.hosts()) {
        names.add(
            IP_ADDRESS.matcher(host).matches()
                ? new GeneralName(
                    GeneralName.iPAddress, InetAddress.getByName(host).getHostAddress())
                : new GeneralName(GeneralName.dNSName, host));
      }
      for (String uri : request.uris()) {
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
      }
      if (!names.isEmpty()) {
        builder.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot build the certificate: " + e.getMessage(), e);
    }
    return new IssuedCertificate(List.of(sign(builder, privateKey)), keys.getPrivate());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) {
    try {
      ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
      return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a certificate", e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make P-256 keys", e);
    }
  }

  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(159, random).add(BigInteger.ONE);
  }
}
