package io.keyrotor.architecturefixture;

import io.keyrotor.server.metrics.NodeMetrics;

/** Deliberately bad: a class of another module that reaches into the server's metrics. */
public final class ServerInternalsUser {
  private ServerInternalsUser() {}

  public static String describe(NodeMetrics metrics) {
    return metrics.getClass().getName();
  }
}
