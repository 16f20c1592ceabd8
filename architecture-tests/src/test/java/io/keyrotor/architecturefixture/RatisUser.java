package io.keyrotor.architecturefixture;

import org.apache.ratis.protocol.RaftPeerId;

/** Deliberately bad: Ratis used outside consensus. */
public final class RatisUser {
  private RatisUser() {}

  public static String peer(String id) {
    return RaftPeerId.valueOf(id).toString();
  }
}
