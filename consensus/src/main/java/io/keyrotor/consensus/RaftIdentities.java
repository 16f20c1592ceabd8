package io.keyrotor.consensus;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.protocol.ClientId;

/**
 * The Ratis client ids a member proposes with. The first 8 bytes name the member (a hash of its
 * node id), the last 8 are random per client, so a restarted node never reuses an id whose replies
 * Ratis's retry cache still remembers. On the Raft port the peer-binding interceptor checks that a
 * client id names the node of the certificate it arrives with; the state machine admits a command
 * only from a client id that names a member of the current configuration.
 */
final class RaftIdentities {
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * The prefix of each node id seen, so that checking a command's proposer (on every command) does
   * not hash every member's id again. Node ids come from the membership; the cap bounds the map
   * whatever the membership does (at the cap it starts again, which costs only hashing).
   */
  static final int MAX_CACHED_PREFIXES = 1024;

  private static final ConcurrentHashMap<String, Long> PREFIXES = new ConcurrentHashMap<>();

  private RaftIdentities() {}

  /** A fresh client id for a Ratis client of {@code nodeId}. */
  static ClientId clientIdOf(String nodeId) {
    return ClientId.valueOf(new UUID(prefix(nodeId), RANDOM.nextLong()));
  }

  /** Whether {@code clientId} is one of {@code nodeId}'s. */
  static boolean names(ClientId clientId, String nodeId) {
    return clientId.getUuid().getMostSignificantBits() == prefix(nodeId);
  }

  /** The member among {@code nodeIds} that {@code clientId} belongs to. */
  static Optional<String> memberOf(ClientId clientId, Collection<String> nodeIds) {
    return nodeIds.stream().filter(id -> names(clientId, id)).findFirst();
  }

  private static long prefix(String nodeId) {
    Long cached = PREFIXES.get(nodeId);
    if (cached != null) {
      return cached;
    }
    long computed = hashedPrefix(nodeId);
    if (PREFIXES.size() >= MAX_CACHED_PREFIXES) {
      PREFIXES.clear();
    }
    PREFIXES.put(nodeId, computed);
    return computed;
  }

  /** How many prefixes are cached now (at most {@link #MAX_CACHED_PREFIXES}). */
  static int cachedPrefixes() {
    return PREFIXES.size();
  }

  private static long hashedPrefix(String nodeId) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(("keyrotor raft client " + nodeId).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
