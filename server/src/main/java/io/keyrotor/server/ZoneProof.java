package io.keyrotor.server;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.server.hsm.KekChecks;
import io.keyrotor.storage.StateView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node proves about its zones before it may vote: for each zone it serves, it unwraps the
 * KEK of one key version of that zone from its applied state with its own HSM and checks the KEK's
 * check value (so a node whose HSM lacks a zone's master key, or holds another one, proves
 * nothing). A zone without any key counts when the HSM holds a master key of the zone. The
 * unwrapped KEK is zeroed at once; only the zone names leave this class.
 */
final class ZoneProof {
  private static final Logger LOG = LoggerFactory.getLogger(ZoneProof.class);

  private ZoneProof() {}

  /** The zones of {@code zones} this node's {@code hsm} proved, sorted. */
  static List<String> verifiedZones(Collection<String> zones, StateView state, Hsm hsm) {
    List<String> verified = new ArrayList<>();
    for (String zone : new TreeSet<>(zones)) {
      try {
        if (proves(zone, state, hsm)) {
          verified.add(zone);
        }
      } catch (HsmException | RuntimeException e) {
        LOG.warn("This node's HSM cannot unwrap a KEK of zone {}: {}", zone, e.getMessage());
      }
    }
    return verified;
  }

  private static boolean proves(String zone, StateView state, Hsm hsm) throws HsmException {
    Optional<Sample> sample = sample(zone, state);
    if (sample.isEmpty()) {
      return hsm.zoneMasterKeyVersions().containsKey(zone);
    }
    Sample s = sample.get();
    // Unwrapped and checked against its check value, then zeroed at once.
    KekChecks.unwrapChecked(
            hsm, s.version().getKek(), zone, s.key().getName(), s.version().getVersion())
        .close();
    return true;
  }

  /**
   * The newest version with wrapped material of the first key of {@code zone}, if any. Keys are
   * read a page at a time in name order, and a zone without keys is not searched at all.
   */
  private static Optional<Sample> sample(String zone, StateView state) {
    if (state.keyCountInZone(zone) == 0) {
      return Optional.empty();
    }
    for (KeyRecord key : state.allKeys()) {
      if (!key.getZone().equals(zone)) {
        continue;
      }
      for (int i = key.getVersionsCount() - 1; i >= 0; i--) {
        KeyVersionRecord version = key.getVersions(i);
        if (!version.getKek().getCiphertext().isEmpty()) {
          return Optional.of(new Sample(key, version));
        }
      }
    }
    return Optional.empty();
  }

  private record Sample(KeyRecord key, KeyVersionRecord version) {}
}
