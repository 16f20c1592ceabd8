package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.ratis.protocol.ClientId;
import org.junit.jupiter.api.Test;

class RaftIdentitiesTest {
  @Test
  void memberOf_moreNodeIdsThanThePrefixCacheHolds_findsTheMemberAndTheCacheStaysBounded() {
    List<String> ids =
        IntStream.range(0, 2 * RaftIdentities.MAX_CACHED_PREFIXES + 7)
            .mapToObj(i -> "node-" + i)
            .toList();
    String last = ids.get(ids.size() - 1);
    ClientId client = RaftIdentities.clientIdOf(last);

    assertEquals(Optional.of(last), RaftIdentities.memberOf(client, ids));
    assertTrue(RaftIdentities.cachedPrefixes() <= RaftIdentities.MAX_CACHED_PREFIXES);
    // Asked again, with the ids now cached: the same answer.
    assertEquals(Optional.of(last), RaftIdentities.memberOf(client, ids));
    assertTrue(RaftIdentities.memberOf(ClientId.randomId(), ids).isEmpty());
  }

  @Test
  void names_cachedPrefixAgreesWithAFreshClientIdOfTheSameNode() {
    ClientId first = RaftIdentities.clientIdOf("n1");
    ClientId second = RaftIdentities.clientIdOf("n1");

    assertTrue(RaftIdentities.names(first, "n1"));
    assertTrue(RaftIdentities.names(second, "n1"));
    assertTrue(!RaftIdentities.names(first, "n2"));
  }
}
