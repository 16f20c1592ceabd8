package io.keyrotor.storage.access;

import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rate limits of one policy version ({@link Quota}), compiled: which quotas apply to a
 * principal. The token buckets themselves are the server's (a node counts the calls it answers);
 * this is only the matching, deterministic and shared by every check.
 */
public final class QuotaSet {
  /** Most principals whose quotas are cached; beyond it they are matched per call. */
  static final int PRINCIPAL_CACHE_LIMIT = 4_096;

  static final QuotaSet NONE = new QuotaSet(List.of());

  private final CompiledQuota[] quotas;
  private final ConcurrentHashMap<String, List<QuotaRule>> byPrincipal = new ConcurrentHashMap<>();

  private QuotaSet(List<Quota> quotas) {
    this.quotas = new CompiledQuota[quotas.size()];
    for (int i = 0; i < quotas.size(); i++) {
      Quota quota = quotas.get(i);
      int mask = 0;
      for (Permission p : quota.getPermissionsList()) {
        mask |= AccessPolicy.bit(p);
      }
      this.quotas[i] =
          new CompiledQuota(
              Glob.of(quota.getPrincipal().isEmpty() ? "\0" : quota.getPrincipal()),
              new QuotaRule(
                  i, quota.getName(), quota.getRequestsPerSecond(), burstOf(quota), mask));
    }
  }

  static QuotaSet compile(List<Quota> quotas) {
    return quotas.isEmpty() ? NONE : new QuotaSet(quotas);
  }

  /** Whether the policy has no quota at all. */
  public boolean isEmpty() {
    return quotas.length == 0;
  }

  /**
   * The quotas whose principal pattern matches {@code principal}, in policy order (each still to be
   * asked {@link QuotaRule#covers(Permission)}).
   */
  public List<QuotaRule> of(String principal) {
    List<QuotaRule> cached = byPrincipal.get(principal);
    if (cached != null) {
      return cached;
    }
    List<QuotaRule> matching = new ArrayList<>();
    for (CompiledQuota quota : quotas) {
      if (quota.principal.matches(principal)) {
        matching.add(quota.rule);
      }
    }
    List<QuotaRule> found = List.copyOf(matching);
    if (byPrincipal.size() < PRINCIPAL_CACHE_LIMIT) {
      byPrincipal.putIfAbsent(principal, found);
    }
    return found;
  }

  /** A quota's burst: as set, or its rate rounded up (at least 1) when it is 0. */
  static long burstOf(Quota quota) {
    if (quota.getBurst() > 0) {
      return quota.getBurst();
    }
    return Math.max(1, (long) Math.ceil(quota.getRequestsPerSecond()));
  }

  private record CompiledQuota(Glob principal, QuotaRule rule) {}

  /**
   * One quota as the server applies it.
   *
   * @param index its position in the policy (a stable key for one policy version)
   * @param name its name
   * @param perSecond tokens added per second
   * @param burst the bucket's size
   * @param permissions the permission bits it counts; 0: every permission
   */
  public record QuotaRule(int index, String name, double perSecond, long burst, int permissions) {
    /** Whether calls needing {@code permission} take a token from this quota. */
    public boolean covers(Permission permission) {
      return permissions == 0 || (permissions & AccessPolicy.bit(permission)) != 0;
    }
  }
}
