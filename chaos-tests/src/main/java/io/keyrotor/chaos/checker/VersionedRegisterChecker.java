package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The versioned-register checker: exact and O(n log n) when every answer carries the key's revision
 * (the Raft index of its last change). Per key, over acknowledged writes and reads that returned a
 * revision:
 *
 * <ol>
 *   <li><b>split-brain</b>: each revision maps to one value, and no two acknowledged writes share a
 *       revision; <b>lost-update</b>: a compare-and-set acknowledged at revision r expected the
 *       value of the last acknowledged write below r (unless an indeterminate write of the expected
 *       value could sit between);
 *   <li><b>lost-write</b>: a read at revision r returns the value of the last acknowledged write at
 *       or before r (unless an indeterminate write of the read value could explain it);
 *       <b>future-read</b>: a read returns a value first written at a revision above its own;
 *       <b>phantom</b>: a read returns a value nobody wrote (nor the initial value);
 *   <li><b>stale-read</b> / <b>write-order</b>: real-time order agrees with revision order: if A
 *       completed before B was invoked, rev(A) &le; rev(B), strictly if B is a write.
 * </ol>
 *
 * <p>Limits: it needs every change of the key's value in the history as a write (a key that other
 * workloads also change must be classified accordingly), and revisions on reads; indeterminate
 * writes have no revision, so only the WGL cross-check constrains where they fall.
 */
public final class VersionedRegisterChecker {

  /** How an operation takes part in the register. */
  public enum Role {
    WRITE,
    READ,
    NONE
  }

  /**
   * Maps history operations to register roles and values.
   *
   * @param name the check's name in the summary
   * @param role whether an operation writes, reads or neither
   * @param value the value a write writes or a read returned
   * @param expected for a compare-and-set write, the value it required (null otherwise)
   * @param initialValueOrNull the value before any write, if known
   */
  public record Mapping(
      String name,
      Function<Operation, Role> role,
      Function<Operation, Object> value,
      Function<Operation, Object> expected,
      Object initialValueOrNull) {}

  /** W2: activate is a write of input.version; get-primary a read of output.version. */
  public static Mapping primaryRegister(Long initialVersionOrNull) {
    return new Mapping(
        "W2 primary (rev)",
        op ->
            switch (op.f()) {
              case PrimaryRegisterWorkload.ACTIVATE -> Role.WRITE;
              case PrimaryRegisterWorkload.GET_PRIMARY -> Role.READ;
              default -> Role.NONE;
            },
        op ->
            op.f().equals(PrimaryRegisterWorkload.ACTIVATE)
                ? JsonValues.longOrNull(op.inputOrNull(), "version")
                : JsonValues.longOrNull(op.outputOrNull(), "version"),
        op ->
            op.f().equals(PrimaryRegisterWorkload.ACTIVATE)
                ? JsonValues.longOrNull(op.inputOrNull(), "expected")
                : null,
        initialVersionOrNull);
  }

  private final Mapping mapping;

  public VersionedRegisterChecker(Mapping mapping) {
    this.mapping = Objects.requireNonNull(mapping, "mapping");
  }

  private record Access(Operation op, Role role, Object value, Object expectedOrNull, long rev) {}

  /** Checks every key of the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder(mapping.name());
    for (String kind :
        List.of(
            "split-brain", "lost-write", "future-read", "phantom", "stale-read", "write-order")) {
      result.count(kind, 0);
    }
    long operations = 0;
    long missingRevisions = 0;
    for (Map.Entry<String, List<Operation>> entry : history.operationsByKey().entrySet()) {
      List<Access> accesses = new ArrayList<>();
      Set<Object> indeterminateWrites = new HashSet<>();
      Set<Object> allWritten = new HashSet<>();
      for (Operation op : entry.getValue()) {
        Role role = mapping.role().apply(op);
        if (role == Role.NONE) {
          continue;
        }
        operations++;
        if (role == Role.WRITE && op.isIndeterminate()) {
          Object value = mapping.value().apply(op);
          indeterminateWrites.add(value);
          allWritten.add(value);
        }
        if (!op.isOk()) {
          continue;
        }
        Object value = mapping.value().apply(op);
        if (op.revOrNull() == null || value == null) {
          missingRevisions++;
          continue;
        }
        if (role == Role.WRITE) {
          allWritten.add(value);
        }
        Object expected = role == Role.WRITE ? mapping.expected().apply(op) : null;
        accesses.add(new Access(op, role, value, expected, op.revOrNull()));
      }
      checkKey(entry.getKey(), accesses, indeterminateWrites, allWritten, history, result);
    }
    result.count("ops", operations);
    if (missingRevisions > 0) {
      result.unknown(
          missingRevisions
              + " acknowledged operations carry no revision or value: the harness"
              + " must record them");
    }
    return result.build();
  }

  private void checkKey(
      String key,
      List<Access> accesses,
      Set<Object> indeterminateWrites,
      Set<Object> allWritten,
      History history,
      CheckResult.Builder result) {
    List<Event> nemesis = history.nemesisEvents();
    // 1. One value per revision; one acknowledged write per revision.
    Map<Long, Access> firstAtRevision = new HashMap<>();
    TreeMap<Long, Access> writesByRevision = new TreeMap<>();
    Map<Object, Access> firstWriteOfValue = new LinkedHashMap<>();
    for (Access access : accesses) {
      Access earlier = firstAtRevision.putIfAbsent(access.rev(), access);
      if (earlier != null && !earlier.value().equals(access.value())) {
        report(
            result,
            Anomaly.of(
                "split-brain",
                key,
                "revision "
                    + access.rev()
                    + " holds two values, "
                    + earlier.value()
                    + " and "
                    + access.value(),
                List.of(earlier.op(), access.op()),
                nemesis));
      }
      if (access.role() == Role.WRITE) {
        Access otherWrite = writesByRevision.putIfAbsent(access.rev(), access);
        if (otherWrite != null) {
          report(
              result,
              Anomaly.of(
                  "split-brain",
                  key,
                  "two writes were acknowledged at revision " + access.rev(),
                  List.of(otherWrite.op(), access.op()),
                  nemesis));
        }
        firstWriteOfValue.merge(access.value(), access, (a, b) -> a.rev() <= b.rev() ? a : b);
      }
    }
    Object initial = mapping.initialValueOrNull();
    // 1b. A compare-and-set acknowledged at revision r found the value of the last write before r.
    for (Access write : writesByRevision.values()) {
      if (write.expectedOrNull() == null || indeterminateWrites.contains(write.expectedOrNull())) {
        continue;
      }
      Map.Entry<Long, Access> before = writesByRevision.lowerEntry(write.rev());
      Object found = before == null ? initial : before.getValue().value();
      if (found != null && !found.equals(write.expectedOrNull())) {
        report(
            result,
            Anomaly.of(
                "lost-update",
                key,
                "a compare-and-set from "
                    + write.expectedOrNull()
                    + " was acknowledged at revision "
                    + write.rev()
                    + ", but the value before it was "
                    + found
                    + (before == null
                        ? " (the initial value)"
                        : " (revision " + before.getKey() + ")"),
                before == null ? List.of(write.op()) : List.of(before.getValue().op(), write.op()),
                nemesis));
      }
    }
    // 2. A read at revision r returns the last acknowledged write at or before r.
    for (Access read : accesses) {
      if (read.role() != Role.READ) {
        continue;
      }
      Map.Entry<Long, Access> last = writesByRevision.floorEntry(read.rev());
      if (last != null && last.getValue().value().equals(read.value())) {
        continue;
      }
      if (indeterminateWrites.contains(read.value())) {
        continue; // An indeterminate write of this value may sit between; WGL decides.
      }
      Access writer = firstWriteOfValue.get(read.value());
      if (writer == null && !read.value().equals(initial) && !allWritten.contains(read.value())) {
        report(
            result,
            Anomaly.of(
                "phantom",
                key,
                "a read at revision "
                    + read.rev()
                    + " returned "
                    + read.value()
                    + ", which no operation wrote",
                List.of(read.op()),
                nemesis));
      } else if (writer != null && writer.rev() > read.rev()) {
        report(
            result,
            Anomaly.of(
                "future-read",
                key,
                "a read at revision "
                    + read.rev()
                    + " returned "
                    + read.value()
                    + ", first written at revision "
                    + writer.rev(),
                List.of(writer.op(), read.op()),
                nemesis));
      } else if (last != null) {
        report(
            result,
            Anomaly.of(
                "lost-write",
                key,
                "a read at revision "
                    + read.rev()
                    + " returned "
                    + read.value()
                    + ", but the write of "
                    + last.getValue().value()
                    + " was acknowledged at revision "
                    + last.getKey()
                    + " <= "
                    + read.rev(),
                writer == null
                    ? List.of(last.getValue().op(), read.op())
                    : List.of(writer.op(), last.getValue().op(), read.op()),
                nemesis));
      }
    }
    // 3. Real-time order agrees with revision order (strictly for writes).
    List<Access> byInvoke = new ArrayList<>(accesses);
    byInvoke.sort(Comparator.comparingLong(a -> a.op().invokeNanos()));
    List<Access> byComplete = new ArrayList<>(accesses);
    byComplete.sort(Comparator.comparingLong(a -> a.op().completeNanos()));
    Access maxCompleted = null;
    int next = 0;
    for (Access access : byInvoke) {
      while (next < byComplete.size()
          && byComplete.get(next).op().completeNanos() < access.op().invokeNanos()) {
        Access completed = byComplete.get(next++);
        if (maxCompleted == null || completed.rev() > maxCompleted.rev()) {
          maxCompleted = completed;
        }
      }
      if (maxCompleted == null) {
        continue;
      }
      boolean write = access.role() == Role.WRITE;
      if (access.rev() < maxCompleted.rev() || (write && access.rev() == maxCompleted.rev())) {
        String kind = write ? "write-order" : "stale-read";
        report(
            result,
            Anomaly.of(
                kind,
                key,
                (write ? "a write" : "a read")
                    + " invoked after an operation at revision "
                    + maxCompleted.rev()
                    + " completed got revision "
                    + access.rev()
                    + (write ? " (a later write needs a higher revision)" : ""),
                List.of(maxCompleted.op(), access.op()),
                nemesis));
      }
    }
  }

  private static void report(CheckResult.Builder result, Anomaly anomaly) {
    result.increment(anomaly.kind(), 1);
    result.anomaly(anomaly);
  }
}
