package io.keyrotor.chaos.checker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The verdict of one check, with its counts and, on failure, the anomalies that show it.
 *
 * <p>The verdict is derived, never set: any anomaly makes it {@link Verdict#FAIL}; otherwise any
 * reason for doubt (a budget exceeded, missing data) makes it {@link Verdict#UNKNOWN}; otherwise
 * {@link Verdict#PASS}. UNKNOWN is not a pass: {@link #passed()} is true only for PASS.
 */
public final class CheckResult {
  /** The three outcomes. */
  public enum Verdict {
    PASS,
    FAIL,
    UNKNOWN
  }

  private final String name;
  private final Map<String, Long> counts;
  private final List<Anomaly> anomalies;
  private final List<String> unknownReasons;
  private final String detailOrNull;

  private CheckResult(Builder builder) {
    this.name = builder.name;
    this.counts = Collections.unmodifiableMap(new LinkedHashMap<>(builder.counts));
    this.anomalies = List.copyOf(builder.anomalies);
    this.unknownReasons = List.copyOf(builder.unknownReasons);
    this.detailOrNull = builder.detailOrNull;
  }

  /** A builder for the check called {@code name} (as printed in the summary). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  public String name() {
    return name;
  }

  public Verdict verdict() {
    if (!anomalies.isEmpty()) {
      return Verdict.FAIL;
    }
    return unknownReasons.isEmpty() ? Verdict.PASS : Verdict.UNKNOWN;
  }

  /** True only for PASS: UNKNOWN is not a pass. */
  public boolean passed() {
    return verdict() == Verdict.PASS;
  }

  /** Named counts, in the order they were added (printed as {@code name=value}). */
  public Map<String, Long> counts() {
    return counts;
  }

  /** The count called {@code name}, 0 if absent. */
  public long count(String name) {
    return counts.getOrDefault(name, 0L);
  }

  public List<Anomaly> anomalies() {
    return anomalies;
  }

  /** Why the verdict is UNKNOWN (empty unless it is). */
  public List<String> unknownReasons() {
    return unknownReasons;
  }

  /** Free text printed after the counts (for example the WGL cross-check's timing), or null. */
  public String detailOrNull() {
    return detailOrNull;
  }

  /** The anomalies of the given kind. */
  public List<Anomaly> anomalies(String kind) {
    return anomalies.stream().filter(a -> a.kind().equals(kind)).toList();
  }

  @Override
  public String toString() {
    return name + " " + verdict() + " " + counts + (anomalies.isEmpty() ? "" : " " + anomalies);
  }

  /** Collects counts, anomalies and doubts; the verdict follows from them. */
  public static final class Builder {
    private final String name;
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final List<Anomaly> anomalies = new ArrayList<>();
    private final List<String> unknownReasons = new ArrayList<>();
    private String detailOrNull;

    private Builder(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /** Sets a count (replacing an earlier value of the same name). */
    public Builder count(String countName, long value) {
      counts.put(countName, value);
      return this;
    }

    /** Adds to a count, creating it at 0. */
    public Builder increment(String countName, long delta) {
      counts.merge(countName, delta, Long::sum);
      return this;
    }

    public Builder anomaly(Anomaly anomaly) {
      anomalies.add(Objects.requireNonNull(anomaly));
      return this;
    }

    /** Records a reason the check could not decide; the verdict becomes UNKNOWN unless FAIL. */
    public Builder unknown(String reason) {
      unknownReasons.add(Objects.requireNonNull(reason));
      return this;
    }

    public Builder detail(String detail) {
      this.detailOrNull = detail;
      return this;
    }

    public CheckResult build() {
      return new CheckResult(this);
    }
  }
}
