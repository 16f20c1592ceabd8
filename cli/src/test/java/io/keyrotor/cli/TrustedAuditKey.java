package io.keyrotor.cli;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.client.audit.AuditKeysPem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;

/**
 * The keys of an offline check's test: a P-256 audit key of node {@code n1}, trusted (its public
 * key written as {@code audit keys} writes it, and its registration), and a stranger's key pair
 * that no file trusts.
 */
record TrustedAuditKey(KeyPair signer, KeyPair stranger, AuditKeyRegistration registration) {

  /** New key pairs; the signer's public key, as version {@code keyVersion}, goes to {@code pem}. */
  static TrustedAuditKey write(Path pem, int keyVersion)
      throws GeneralSecurityException, IOException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair signer = generator.generateKeyPair();
    AuditKeyRegistration registration =
        AuditKeyRegistration.newBuilder()
            .setNode("n1")
            .setKeyVersion(keyVersion)
            .setPublicKey(ByteString.copyFrom(signer.getPublic().getEncoded()))
            .build();
    Files.writeString(pem, AuditKeysPem.write(List.of(registration)));
    return new TrustedAuditKey(signer, generator.generateKeyPair(), registration);
  }
}
