package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Workload W1: a key's versions as an append-only list (Elle's list-append, restricted to
 * single-key operations). {@code rotate} appends a version chosen by the server and answers {@code
 * ok} with {@code {"version": v}}; {@code list-versions} answers {@code ok} with the whole list
 * ({@code [1, 2, ...]}, or {@code {"versions": [...]}}, elements numbers or objects with a {@code
 * version}). Per key:
 *
 * <ol>
 *   <li><b>divergent</b>: every read is a prefix of the longest read (so reads are prefixes of one
 *       another); <b>duplicate</b>: no version twice in a read, nor acknowledged twice;
 *   <li><b>stale-read</b>: a read invoked after another read completed is at least as long;
 *       <b>lost-write</b>: a read invoked after a rotation of v was acknowledged contains v;
 *   <li><b>phantom</b>: every version read was acknowledged by a rotation, is an initial version,
 *       or is one of at most as many unknown versions as there are indeterminate rotations (those
 *       may or may not appear: "recovered-info" counts the ones that did);
 *   <li><b>gap</b> (if versions are positions): the list is exactly 1, 2, ..., n.
 * </ol>
 *
 * <p>O(n log n + total read length). Limits: an acknowledged rotation that no later read covers is
 * counted as "unverified", not failed, so the runner must read every key at the end; the sweep uses
 * positions in the longest read, so after a divergence the lost/stale verdicts are best effort.
 */
public final class AppendOnlyListChecker {
  public static final String ROTATE = "rotate";
  public static final String LIST_VERSIONS = "list-versions";

  private final String name;
  private final List<Long> initialVersions;
  private final boolean versionsArePositions;

  /**
   * A checker called {@code name}; {@code initialVersions} exist before any rotation (for example
   * version 1 from CreateKey); with {@code versionsArePositions} the list must be 1, 2, ..., n.
   */
  public AppendOnlyListChecker(
      String name, List<Long> initialVersions, boolean versionsArePositions) {
    this.name = name;
    this.initialVersions = List.copyOf(initialVersions);
    this.versionsArePositions = versionsArePositions;
  }

  /** W1 as keyrotor runs it: version 1 comes with the key; versions count 1, 2, 3, .... */
  public static AppendOnlyListChecker rotations() {
    return new AppendOnlyListChecker("W1 rotations (list)", List.of(1L), true);
  }

  private record Read(Operation op, List<Long> versions) {}

  /** Checks every key of the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder(name);
    for (String kind :
        List.of("lost-write", "stale-read", "divergent", "phantom", "duplicate", "gap")) {
      result.count(kind, 0);
    }
    result.count("recovered-info", 0);
    result.count("unverified", 0);
    long malformed = 0;
    for (Map.Entry<String, List<Operation>> entry : history.operationsByKey().entrySet()) {
      List<Operation> appends = new ArrayList<>();
      List<Read> reads = new ArrayList<>();
      int indeterminateAppends = 0;
      for (Operation op : entry.getValue()) {
        if (op.f().equals(ROTATE)) {
          if (op.isOk()) {
            if (JsonValues.longOrNull(op.outputOrNull(), "version") == null) {
              malformed++;
            } else {
              appends.add(op);
            }
          } else if (op.isIndeterminate()) {
            indeterminateAppends++;
          }
        } else if (op.f().equals(LIST_VERSIONS) && op.isOk()) {
          List<Long> versions = JsonValues.longListOrNull(op.outputOrNull(), "versions");
          if (versions == null) {
            malformed++;
          } else {
            reads.add(new Read(op, versions));
          }
        }
      }
      result.increment("rotations", appends.size());
      result.increment("reads", reads.size());
      checkKey(entry.getKey(), appends, reads, indeterminateAppends, history, result);
    }
    if (malformed > 0) {
      result.unknown(malformed + " acknowledged operations without a version or a version list");
    }
    return result.build();
  }

  private void checkKey(
      String key,
      List<Operation> appends,
      List<Read> reads,
      int indeterminateAppends,
      History history,
      CheckResult.Builder result) {
    List<Event> nemesis = history.nemesisEvents();
    Map<Long, Operation> acknowledged = new HashMap<>();
    for (Operation append : appends) {
      long version = JsonValues.longOrNull(append.outputOrNull(), "version");
      Operation other = acknowledged.putIfAbsent(version, append);
      if (other != null) {
        report(
            result,
            Anomaly.of(
                "duplicate",
                key,
                "two rotations were acknowledged as version " + version + ": one of them is lost",
                List.of(other, append),
                nemesis));
      }
    }
    // 1. Prefixes of the longest read; no duplicates within a read; exact positions.
    Read longest = null;
    for (Read read : reads) {
      if (longest == null || read.versions().size() > longest.versions().size()) {
        longest = read;
      }
    }
    Set<Long> unexplained = new LinkedHashSet<>();
    Map<Long, Operation> firstReader = new HashMap<>();
    for (Read read : reads) {
      List<Long> versions = read.versions();
      if (new HashSet<>(versions).size() != versions.size()) {
        report(
            result,
            Anomaly.of(
                "duplicate",
                key,
                "a read lists a version twice: " + versions,
                List.of(read.op()),
                nemesis));
      }
      int mismatch = firstMismatch(versions, longest.versions());
      if (mismatch >= 0) {
        report(
            result,
            Anomaly.of(
                "divergent",
                key,
                "two reads are not prefixes of one another: they differ at position "
                    + mismatch
                    + " ("
                    + versions.get(mismatch)
                    + " vs "
                    + longest.versions().get(mismatch)
                    + ")",
                List.of(read.op(), longest.op()),
                nemesis));
      }
      if (versionsArePositions) {
        for (int i = 0; i < versions.size(); i++) {
          if (versions.get(i).longValue() != i + 1L) {
            report(
                result,
                Anomaly.of(
                    "gap",
                    key,
                    "position " + i + " holds version " + versions.get(i) + ", not " + (i + 1),
                    List.of(read.op()),
                    nemesis));
            break;
          }
        }
      }
      for (Long version : versions) {
        if (!acknowledged.containsKey(version) && !initialVersions.contains(version)) {
          unexplained.add(version);
          firstReader.putIfAbsent(version, read.op());
        }
      }
    }
    // 3. Versions nobody acknowledged: at most one per indeterminate rotation.
    if (unexplained.size() > indeterminateAppends) {
      List<Operation> readers = new ArrayList<>();
      for (Long version : unexplained) {
        readers.add(firstReader.get(version));
      }
      report(
          result,
          Anomaly.of(
              "phantom",
              key,
              "reads show versions "
                  + unexplained
                  + " that no acknowledged rotation returned, but only "
                  + indeterminateAppends
                  + " rotations were indeterminate",
              readers,
              nemesis));
    } else {
      result.increment("recovered-info", unexplained.size());
    }
    // 2. The sweep: requirements grow with every completed read or acknowledged rotation.
    Map<Long, Integer> position = new HashMap<>();
    if (longest != null) {
      for (int i = 0; i < longest.versions().size(); i++) {
        position.putIfAbsent(longest.versions().get(i), i);
      }
    }
    record Completion(Operation op, int requiredLength, Long versionOrNull) {}
    List<Completion> completions = new ArrayList<>();
    for (Read read : reads) {
      completions.add(new Completion(read.op(), read.versions().size(), null));
    }
    long lastReadInvoke =
        reads.stream().mapToLong(r -> r.op().invokeNanos()).max().orElse(Long.MIN_VALUE);
    long unverified = 0;
    for (Operation append : appends) {
      long version = JsonValues.longOrNull(append.outputOrNull(), "version");
      Integer at = position.get(version);
      completions.add(new Completion(append, at == null ? Integer.MAX_VALUE : at + 1, version));
      if (append.completeNanos() >= lastReadInvoke) {
        unverified++;
      }
    }
    result.increment("unverified", unverified);
    completions.sort(Comparator.comparingLong(c -> c.op().completeNanos()));
    List<Read> byInvoke = new ArrayList<>(reads);
    byInvoke.sort(Comparator.comparingLong(r -> r.op().invokeNanos()));
    Completion strongest = null;
    int next = 0;
    for (Read read : byInvoke) {
      while (next < completions.size()
          && completions.get(next).op().completeNanos() < read.op().invokeNanos()) {
        Completion completion = completions.get(next++);
        if (strongest == null || completion.requiredLength() > strongest.requiredLength()) {
          strongest = completion;
        }
      }
      if (strongest == null || read.versions().size() >= strongest.requiredLength()) {
        continue;
      }
      if (strongest.versionOrNull() != null) {
        report(
            result,
            Anomaly.of(
                "lost-write",
                key,
                "a read invoked after the rotation to version "
                    + strongest.versionOrNull()
                    + " was acknowledged does not contain it: "
                    + read.versions(),
                List.of(strongest.op(), read.op()),
                nemesis));
      } else {
        report(
            result,
            Anomaly.of(
                "stale-read",
                key,
                "a read invoked after a read of "
                    + strongest.requiredLength()
                    + " versions completed returned only "
                    + read.versions().size(),
                List.of(strongest.op(), read.op()),
                nemesis));
      }
    }
  }

  /** The first position where {@code a} is not a prefix of {@code b}, or -1. */
  private static int firstMismatch(List<Long> a, List<Long> b) {
    for (int i = 0; i < a.size(); i++) {
      if (i >= b.size() || !a.get(i).equals(b.get(i))) {
        return i < b.size() ? i : -1;
      }
    }
    return -1;
  }

  private static void report(CheckResult.Builder result, Anomaly anomaly) {
    result.increment(anomaly.kind(), 1);
    result.anomaly(anomaly);
  }
}
