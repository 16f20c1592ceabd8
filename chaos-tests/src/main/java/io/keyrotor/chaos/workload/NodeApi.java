package io.keyrotor.chaos.workload;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * One node as the workloads see it: the key operations they use, sent to that node only. The
 * namespace tier implements it over the public gRPC API ({@link GrpcNodeApi}); the in-process tier
 * over a Ratis client pinned to one server.
 */
public interface NodeApi extends AutoCloseable {
  String nodeId();

  /** Creates a key; a retry with the same request id is applied once. */
  KeyView createKey(String name, long rotationPeriodMillis, String requestId) throws OpError;

  /** Rotates a key; {@code expectedLatestVersion} 0 is unconditional, else a compare-and-set. */
  Rotated rotate(String name, int expectedLatestVersion, String requestId) throws OpError;

  /** A linearizable read of a key. */
  KeyView getKey(String name) throws OpError;

  /** Encrypts under the key's primary version (data plane). */
  Encrypted encrypt(String name, byte[] plaintext) throws OpError;

  /** Decrypts (data plane). */
  Decrypted decrypt(byte[] ciphertext) throws OpError;

  /** Disables or enables one version. */
  KeyView setVersionEnabled(String name, int version, boolean enabled, String requestId)
      throws OpError;

  /** Removes a key's rotation period, so the scheduler stops rotating it. */
  KeyView clearRotationPeriod(String name, String requestId) throws OpError;

  /** The node's own view: role, leader, applied index, digest. */
  NodeState status() throws OpError;

  @Override
  void close();

  /** A key as read. */
  record KeyView(String name, int primaryVersion, long revision, List<VersionView> versions) {
    public int latestVersion() {
      return versions.isEmpty() ? 0 : versions.get(versions.size() - 1).version();
    }
  }

  /** One version: its state name (PRIMARY, PENDING, ...), activation time and rotation reason. */
  record VersionView(
      int version, String state, long activationMillis, long createMillis, String reason) {}

  /** The result of a rotation. */
  record Rotated(int version, long revision, long activationMillis) {}

  record Encrypted(int version, ByteString ciphertext) {}

  record Decrypted(String keyName, int version, ByteString plaintext) {}

  record NodeState(
      String nodeId, String role, String leaderIdOrEmpty, long appliedIndex, String digest) {}
}
