package io.keyrotor.bench.micro;

import io.keyrotor.server.KeyrotorNode;
import io.keyrotor.server.dataplane.AesGcm;
import io.keyrotor.server.dataplane.CiphertextFormat;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.DataPlaneException;
import io.keyrotor.server.dataplane.EncryptionReservations;
import io.keyrotor.server.dataplane.ReadGate;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The server-side work of one Decrypt of a 32-byte data key (issue 4: under 5 us), against the
 * floor: raw JDK AES-GCM of the same bytes. The cluster is three real nodes in this JVM (Ratis,
 * RocksDB, software HSM); the call is {@code DataPlane.decrypt} on the leader, which passes the
 * read barrier (leader lease), evaluates the version, hits the KEK cache and opens the envelope.
 * Two parts on their own: the data plane without the barrier, and the barrier alone. And the same
 * on a follower that serves reads through ReadIndex ({@code reads.follower=read-index}): its
 * barrier asks the leader for the read index, one round trip more per read.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DecryptBenchmark {
  static final Map<String, String> CONTEXT = Map.of("tenant", "bench");

  /** Three nodes, a key, a data key wrapped under it, and the leader's data plane. */
  @State(Scope.Benchmark)
  public static class Cluster {
    InProcessCluster cluster;
    KeyrotorNode leader;
    DataPlane withoutBarrier;
    KeyrotorNode follower;
    DataPlane followerReadIndex;
    byte[] ciphertext;
    ExecutorService executor;

    @Setup(Level.Trial)
    public void start() throws Exception {
      cluster = new InProcessCluster();
      leader = cluster.leader();
      ciphertext =
          cluster
              .encryptedUnderNewKey("127.0.0.1:" + leader.apiPort(), "measured", CONTEXT)
              .toByteArray();
      executor = Executors.newSingleThreadExecutor();
      withoutBarrier =
          new DataPlane(
              key -> CompletableFuture.completedFuture(null),
              name -> leader.raft().state().key(name),
              leader.config().zones(),
              leader.kekCache(),
              Clock.systemUTC(),
              executor);
      leader.dataPlane().decrypt(ciphertext, CONTEXT); // the KEK is in the cache from here on
      follower = cluster.follower(leader);
      followerReadIndex =
          DataPlane.of(
              follower.raft(),
              follower.config().nodeId(),
              ReadGate.FollowerReads.READ_INDEX,
              follower.config().zones(),
              follower.kekCache(),
              Clock.systemUTC(),
              executor,
              EncryptionReservations.Settings.defaults());
      followerReadIndex.decrypt(
          ciphertext, CONTEXT); // the follower has applied the key and cached its KEK
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      executor.shutdownNow();
      cluster.close();
    }
  }

  /** The same envelope layout (name, version, nonce, context) under a known key. */
  @State(Scope.Thread)
  public static class Raw {
    SecretKeySpec key;
    byte[] blob;
    byte[] context;
    int headerLength;
    int nonceOffset;
    int sealedLength;
    byte[] plaintext;
    Cipher cipher;

    @Setup(Level.Trial)
    public void seal() throws Exception {
      key = new SecretKeySpec(new byte[32], "AES");
      context = CiphertextFormat.encodeContext(CONTEXT);
      blob = AesGcm.seal(key, "measured", 1, new byte[12], context, new byte[32], 0, 32);
      CiphertextFormat.Parsed parsed = CiphertextFormat.parse(blob);
      headerLength = parsed.headerLength();
      nonceOffset = parsed.nonceOffset();
      sealedLength = parsed.sealedLength();
      plaintext = new byte[parsed.plaintextLength()];
      cipher = Cipher.getInstance("AES/GCM/NoPadding");
    }
  }

  /** The floor: javax.crypto AES-256-GCM open of the 32-byte data key's envelope. */
  @Benchmark
  public byte[] rawJdkAesGcm(Raw raw) throws Exception {
    raw.cipher.init(
        Cipher.DECRYPT_MODE, raw.key, new GCMParameterSpec(128, raw.blob, raw.nonceOffset, 12));
    raw.cipher.updateAAD(raw.blob, 0, raw.headerLength);
    raw.cipher.updateAAD(raw.context);
    raw.cipher.doFinal(raw.blob, raw.headerLength, raw.sealedLength, raw.plaintext, 0);
    return raw.plaintext;
  }

  /** Parsing, version checks, KEK cache hit and AES-GCM: everything but the read barrier. */
  @Benchmark
  public DataPlane.Decrypted dataPlaneWithoutBarrier(Cluster cluster) throws DataPlaneException {
    return cluster.withoutBarrier.decrypt(cluster.ciphertext, CONTEXT);
  }

  /** The whole server-side Decrypt on the leader (issue 4's target). */
  @Benchmark
  public DataPlane.Decrypted leaderDecrypt(Cluster cluster) throws DataPlaneException {
    return cluster.leader.dataPlane().decrypt(cluster.ciphertext, CONTEXT);
  }

  /** The linearizable read barrier alone (leader lease through Ratis's read path). */
  @Benchmark
  public Long leaderReadBarrier(Cluster cluster) {
    return cluster.leader.raft().readBarrier().join();
  }

  /** The whole server-side Decrypt on a follower that reads through ReadIndex. */
  @Benchmark
  public DataPlane.Decrypted followerReadIndexDecrypt(Cluster cluster) throws DataPlaneException {
    return cluster.followerReadIndex.decrypt(cluster.ciphertext, CONTEXT);
  }

  /** A follower's read barrier alone: ReadIndex, the read index fetched from the leader. */
  @Benchmark
  public Long followerReadBarrier(Cluster cluster) {
    return cluster.follower.raft().readBarrier().join();
  }
}
