package io.keyrotor.storage.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.proto.internal.v1.RegisterAuditKey;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyStateStore;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/**
 * A small audit history that the chain and trim tests start from, applied at indexes 1-6: node n1
 * registered, key k1 at 2, an audit key of n1 at 3, k2 at 4, a checkpoint of index 3 at 5 (its
 * signature is not checked in apply), k3 at 6.
 */
final class CheckpointedHistory {
  private CheckpointedHistory() {}

  /** Applies the history to {@code store}, with command times from {@code t0} on. */
  static void apply(KeyStateStore store, long t0) throws GeneralSecurityException {
    store.apply(Commands.register("n1", t0), 1, 1);
    store.apply(Commands.create("r2", t0 + 1, "k1"), 1, 2);
    store.apply(
        Command.newBuilder()
            .setRequestId("r3")
            .setProposedTimeUnixMillis(t0 + 2)
            .setRegisterAuditKey(
                RegisterAuditKey.newBuilder()
                    .setKey(
                        AuditKeyRegistration.newBuilder()
                            .setNode("n1")
                            .setKeyVersion(1)
                            .setPublicKey(ByteString.copyFrom(p256PublicKey()))))
            .build(),
        1,
        3);
    AuditRecord third = store.audit(3, 1).get(0);
    store.apply(Commands.create("r4", t0 + 3, "k2"), 1, 4);
    store.apply(
        Command.newBuilder()
            .setRequestId("r5")
            .setProposedTimeUnixMillis(t0 + 4)
            .setRecordAuditCheckpoint(
                RecordAuditCheckpoint.newBuilder()
                    .setCheckpoint(
                        AuditCheckpoint.newBuilder()
                            .setLogIndex(3)
                            .setHead(third.getHash())
                            .setSignerNode("n1")
                            .setKeyVersion(1)
                            .setSignature(ByteString.copyFrom(new byte[64]))))
            .build(),
        1,
        5);
    store.apply(Commands.create("r6", t0 + 5, "k3"), 1, 6);
  }

  /** A fresh P-256 public key as an X.509 SubjectPublicKeyInfo, the form audit keys travel in. */
  private static byte[] p256PublicKey() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair().getPublic().getEncoded();
  }
}
