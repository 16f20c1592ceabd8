package io.keyrotor.consensus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Gauge;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metered;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metric;

/**
 * What Raft knows about itself, for the node's metrics endpoint, without handing Ratis types out of
 * this module: the leader's view of its followers, and the numbers of Ratis's own metric registries
 * (ratis-metrics-default: shaded Dropwizard registries) that belong to this member.
 */
public final class RaftMetrics {
  private RaftMetrics() {}

  /** One follower as its leader sees it: how far it has replicated and when it last answered. */
  public record Follower(String id, long matchIndex, long lastRpcElapsedMillis) {}

  /** The followers of {@code division} if it leads, else none. */
  static List<Follower> followers(RaftServer.Division division) {
    DivisionInfo info = division.getInfo();
    if (!info.isLeader()) {
      return List.of();
    }
    RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
    long[] matchIndices = info.getFollowerMatchIndices();
    List<Follower> out = new ArrayList<>();
    List<RaftProtos.ServerRpcProto> followers = role.getLeaderInfo().getFollowerInfoList();
    // Both lists come from the leader's log appenders, in the same order.
    for (int i = 0; i < followers.size() && i < matchIndices.length; i++) {
      RaftProtos.ServerRpcProto follower = followers.get(i);
      out.add(
          new Follower(
              follower.getId().getId().toStringUtf8(),
              matchIndices[i],
              follower.getLastRpcElapsedTimeMs()));
    }
    return out;
  }

  /**
   * The numeric metrics of every Ratis registry of the member {@code memberPrefix} (Ratis names a
   * member's registries {@code <peer id>@<group id>}), keyed {@code <component>.<metric name>}:
   * gauges with a numeric value, counters, and the count of meters and timers. The names are
   * Ratis's own (per component and per peer of the group), so their number is bounded by the group.
   */
  static Map<String, Double> ratisMetrics(String memberPrefix) {
    Map<String, Double> out = new TreeMap<>();
    for (RatisMetricRegistry registry : MetricRegistries.global().getMetricRegistries()) {
      if (!registry.getMetricRegistryInfo().getPrefix().startsWith(memberPrefix)
          || !(registry instanceof RatisMetricRegistryImpl impl)) {
        continue;
      }
      String component = registry.getMetricRegistryInfo().getMetricsComponentName();
      for (Map.Entry<String, Metric> entry :
          impl.getDropWizardMetricRegistry().getMetrics().entrySet()) {
        Double value = valueOf(entry.getValue());
        if (value != null) {
          out.put(component + "." + stripMember(entry.getKey(), memberPrefix), value);
        }
      }
    }
    return out;
  }

  /** Ratis prefixes some metric names with the member id: the component already says whose. */
  private static String stripMember(String name, String memberPrefix) {
    int at = name.indexOf(memberPrefix);
    return at < 0 ? name : name.substring(0, at) + name.substring(at + memberPrefix.length());
  }

  private static Double valueOf(Metric metric) {
    if (metric instanceof Gauge<?> gauge) {
      Object value;
      try {
        value = gauge.getValue();
      } catch (RuntimeException e) {
        return null; // a gauge of a part that is closing
      }
      return value instanceof Number number ? number.doubleValue() : null;
    }
    if (metric instanceof Counter counter) {
      return (double) counter.getCount();
    }
    if (metric instanceof Metered metered) {
      return (double) metered.getCount();
    }
    return null;
  }
}
