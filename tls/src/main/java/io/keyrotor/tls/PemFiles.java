package io.keyrotor.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM files of certificates and private keys: read (certificate chains; PKCS#8 keys, and the
 * traditional OpenSSL EC and RSA forms) and written (PKCS#8 keys with owner-only permissions,
 * replaced atomically so a reader never sees half a file).
 */
public final class PemFiles {
  private PemFiles() {}

  /** The certificates in {@code file}, in order (a leaf and its chain, or trust anchors). */
  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object object;
      while ((object = parser.readObject()) != null) {
        if (object instanceof X509CertificateHolder holder) {
          certificates.add(converter.getCertificate(holder));
        } else {
          throw new IOException(file + " holds a PEM object that is not a certificate");
        }
      }
    } catch (CertificateException | PEMException e) {
      throw new IOException(file + " is not a readable PEM certificate file: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IOException(file + " holds no PEM certificate");
    }
    return List.copyOf(certificates);
  }

  /** The one private key in {@code file} (PKCS#8 PEM, or OpenSSL's EC or RSA key form). */
  public static PrivateKey readPrivateKey(Path file) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object object = parser.readObject();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw new IOException(
          file
              + (object == null
                  ? " holds no PEM private key"
                  : " holds no unencrypted PKCS#8 PEM private key"));
    } catch (PEMException e) {
      throw new IOException(file + " is not a readable PEM private key: " + e.getMessage(), e);
    }
  }

  /** Writes {@code certificates} to {@code file} (readable by all: certificates are public). */
  public static void writeCertificates(Path file, List<X509Certificate> certificates)
      throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(certificate);
      }
    }
    replace(file, text.toString(), "rw-r--r--");
  }

  /** Writes {@code key} to {@code file} as unencrypted PKCS#8 PEM, readable by its owner only. */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(new JcaPKCS8Generator(key, null));
    }
    replace(file, text.toString(), "rw-------");
  }

  private static void replace(Path file, String text, String permissions) throws IOException {
    Path directory = file.toAbsolutePath().getParent();
    Files.createDirectories(directory);
    Path temporary =
        Files.createTempFile(
            directory,
            "." + file.getFileName(),
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(temporary, text, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(permissions));
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
