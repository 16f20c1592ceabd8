package io.keyrotor.storage;

import static io.keyrotor.storage.Outcomes.event;
import static io.keyrotor.storage.Outcomes.notFound;
import static io.keyrotor.storage.Outcomes.ok;
import static io.keyrotor.storage.Outcomes.reject;
import static io.keyrotor.storage.Outcomes.versionNotFound;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Deterministic transitions of the rotation engine: destroy scheduling, version floors, validation
 * acknowledgements, cancellation, rollback, usage reports, dependencies, activation records and
 * bulk rotations. Like {@link Transitions}, it reads no clock; the leader decides when to propose
 * the time-driven ones (destroy at destroy time, cancel at a missed validation deadline).
 */
final class LifecycleTransitions {
  /** How soon a key whose scheduled rotation was cancelled is tried again (at most its period). */
  static final long CANCELLED_RETRY_MILLIS = 60_000;

  /** Most dependents a key may declare. */
  static final int MAX_DEPENDENTS = 256;

  private final StateReader state;

  LifecycleTransitions(StateReader state) {
    this.state = state;
  }

  Effects apply(Command command, long index, long time) {
    return switch (command.getBodyCase()) {
      case SCHEDULE_VERSION_DESTROY ->
          scheduleDestroy(command.getScheduleVersionDestroy(), command, index, time);
      case CANCEL_VERSION_DESTROY ->
          cancelDestroy(command.getCancelVersionDestroy(), command, index, time);
      case DESTROY_VERSION -> destroy(command.getDestroyVersion(), command, index, time);
      case SET_VERSION_FLOORS -> setFloors(command.getSetVersionFloors(), command, index, time);
      case ACKNOWLEDGE_VERSION ->
          acknowledge(command.getAcknowledgeVersion(), command, index, time);
      case CANCEL_ROTATION -> cancelRotation(command.getCancelRotation(), command, index, time);
      case ROLLBACK_ROTATION -> rollback(command.getRollbackRotation(), command, index, time);
      case REPORT_USAGE -> reportUsage(command.getReportUsage(), index);
      case SET_DEPENDENTS -> setDependents(command.getSetDependents(), command, index, time);
      case RECORD_ACTIVATION ->
          recordActivation(command.getRecordActivation(), command, index, time);
      case START_BULK_ROTATION ->
          startBulkRotation(command.getStartBulkRotation(), command, index, time);
      default ->
          reject(
              "UNKNOWN",
              Code.INVALID_ARGUMENT,
              "UNKNOWN_COMMAND",
              "not a lifecycle command: " + command.getBodyCase(),
              "",
              index);
    };
  }

  /** A key and one of its versions, found, or the rejection that says which is missing. */
  private record Target(KeyRecord key, KeyVersionRecord version, Effects rejection) {}

  private Target find(String action, String name, long version, long index) {
    Optional<KeyRecord> key = state.key(name);
    if (key.isEmpty()) {
      return new Target(null, null, notFound(action, name, index));
    }
    Optional<KeyVersionRecord> found = KeyVersions.find(key.get(), version);
    if (found.isEmpty()) {
      return new Target(
          key.get(),
          null,
          versionNotFound(action, name, version, key.get().getVersionsCount(), index));
    }
    return new Target(key.get(), found.get(), null);
  }

  private static KeyRecord replace(KeyRecord key, KeyVersionRecord version, long index) {
    return key.toBuilder()
        .setVersions(version.getVersion() - 1, version)
        .setRevision(index)
        .build();
  }

  private static Effects changed(
      String action,
      KeyRecord key,
      int version,
      long index,
      String message,
      String detail,
      List<KeyEventRecord> events) {
    return new Effects(
            ok(key.getName(), version, index, 0, message),
            Optional.of(key),
            Optional.empty(),
            action,
            detail)
        .withEvents(events);
  }

  private static Effects unchanged(
      String action, String name, int version, long index, String why) {
    return new Effects(
        ok(name, version, index, 0, "unchanged: " + why),
        Optional.empty(),
        Optional.empty(),
        action,
        "unchanged: " + why);
  }

  private Effects scheduleDestroy(
      ScheduleVersionDestroy schedule, Command command, long index, long time) {
    String action = "SCHEDULE_VERSION_DESTROY";
    Target t = find(action, schedule.getName(), schedule.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    String name = t.key().getName();
    switch (v.getStatus()) {
      case VERSION_STATUS_DESTROY_SCHEDULED:
        return unchanged(action, name, v.getVersion(), index, "already scheduled");
      case VERSION_STATUS_DESTROYED:
      case VERSION_STATUS_CANCELLED:
        return reject(
            action,
            Code.FAILED_PRECONDITION,
            "VERSION_" + v.getStatus().name().substring("VERSION_STATUS_".length()),
            "version " + v.getVersion() + " of key \"" + name + "\" has no material to destroy",
            name,
            index);
      default:
        break;
    }
    if (KeyVersions.primaryVersionAt(t.key(), time) == v.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_IS_PRIMARY",
          "version " + v.getVersion() + " is the primary of key \"" + name + "\"; rotate first",
          name,
          index);
    }
    if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && KeyVersions.pendingAt(t.key(), time).map(KeyVersionRecord::getVersion).orElse(0)
            == v.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_PENDING",
          "version " + v.getVersion() + " of key \"" + name + "\" is pending; cancel the rotation",
          name,
          index);
    }
    long destroyTime = Math.max(time, schedule.getDestroyTimeUnixMillis());
    KeyVersionRecord updated =
        v.toBuilder()
            .setStatus(VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED)
            .setDestroyTimeUnixMillis(destroyTime)
            .setStatusReason("destroy scheduled")
            .build();
    return changed(
        action,
        replace(t.key(), updated, index),
        v.getVersion(),
        index,
        "destroy scheduled",
        "version=" + v.getVersion() + " destroy_time=" + destroyTime,
        List.of(
            event(
                KeyEventType.KEY_EVENT_TYPE_DESTROY_SCHEDULED,
                name,
                v.getVersion(),
                command,
                time,
                "destroy_time=" + destroyTime)));
  }

  private Effects cancelDestroy(
      CancelVersionDestroy cancel, Command command, long index, long time) {
    String action = "CANCEL_VERSION_DESTROY";
    Target t = find(action, cancel.getName(), cancel.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    String name = t.key().getName();
    if (v.getStatus() != VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED
              ? "VERSION_DESTROYED"
              : "DESTROY_NOT_SCHEDULED",
          "version "
              + v.getVersion()
              + " of key \""
              + name
              + "\" is "
              + (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED
                  ? "destroyed already"
                  : "not scheduled for destruction"),
          name,
          index);
    }
    KeyVersionRecord updated =
        v.toBuilder()
            .setStatus(VersionStatus.VERSION_STATUS_DISABLED)
            .clearDestroyTimeUnixMillis()
            .setStatusReason("destroy cancelled")
            .build();
    return changed(
        action,
        replace(t.key(), updated, index),
        v.getVersion(),
        index,
        "destroy cancelled",
        "version=" + v.getVersion(),
        List.of(
            event(
                KeyEventType.KEY_EVENT_TYPE_DESTROY_CANCELLED,
                name,
                v.getVersion(),
                command,
                time,
                "")));
  }

  private Effects destroy(DestroyVersion destroy, Command command, long index, long time) {
    String action = "DESTROY_VERSION";
    Target t = find(action, destroy.getName(), destroy.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    String name = t.key().getName();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED) {
      return unchanged(action, name, v.getVersion(), index, "destroyed already");
    }
    if (v.getStatus() != VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
        || v.getDestroyTimeUnixMillis() > time) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "DESTROY_NOT_DUE",
          "version " + v.getVersion() + " of key \"" + name + "\" is not due for destruction",
          name,
          index);
    }
    KeyVersionRecord updated =
        v.toBuilder()
            .setStatus(VersionStatus.VERSION_STATUS_DESTROYED)
            .clearKek()
            .setStatusReason("destroyed")
            .build();
    return changed(
        action,
        replace(t.key(), updated, index),
        v.getVersion(),
        index,
        "destroyed",
        "version=" + v.getVersion(),
        List.of(
            event(KeyEventType.KEY_EVENT_TYPE_DESTROYED, name, v.getVersion(), command, time, "")));
  }

  private Effects setFloors(SetVersionFloors floors, Command command, long index, long time) {
    String action = "SET_VERSION_FLOORS";
    String name = floors.getName();
    Optional<KeyRecord> found = state.key(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    KeyRecord key = found.get();
    int latest = key.getVersionsCount();
    int minDecrypt = floors.getMinDecryptionVersion();
    int minEncrypt = floors.getMinEncryptionVersion();
    if (minDecrypt > latest || minEncrypt > latest) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "INVALID_VERSION",
          "key \"" + name + "\" has versions 1-" + latest + "; a floor cannot be above that",
          name,
          index);
    }
    int primary = KeyVersions.primaryVersionAt(key, time);
    if (primary != 0 && (primary < minDecrypt || primary < minEncrypt)) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_IS_PRIMARY",
          "the primary of key \""
              + name
              + "\" is version "
              + primary
              + "; rotate before raising a floor above it",
          name,
          index);
    }
    KeyRecord.Builder updated =
        key.toBuilder()
            .setMinDecryptionVersion(minDecrypt)
            .setMinEncryptionVersion(minEncrypt)
            .setRevision(index);
    List<KeyEventRecord> events = new ArrayList<>();
    String detail =
        "min_decryption_version=" + minDecrypt + " min_encryption_version=" + minEncrypt;
    events.add(event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, command, time, detail));
    for (int i = 0; i < updated.getVersionsCount(); i++) {
      KeyVersionRecord v = updated.getVersions(i);
      if (v.getVersion() < minDecrypt && v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED) {
        updated.setVersions(
            i,
            v.toBuilder()
                .setStatus(VersionStatus.VERSION_STATUS_DISABLED)
                .setStatusReason("below min_decryption_version " + minDecrypt)
                .build());
        events.add(
            event(
                KeyEventType.KEY_EVENT_TYPE_DISABLED,
                name,
                v.getVersion(),
                command,
                time,
                "below min_decryption_version " + minDecrypt));
      }
    }
    return changed(action, updated.build(), 0, index, "floors set", detail, events);
  }

  private Effects acknowledge(AcknowledgeVersion ack, Command command, long index, long time) {
    String action = "ACKNOWLEDGE_VERSION";
    Target t = find(action, ack.getName(), ack.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    String name = t.key().getName();
    if (v.getValidationDeadlineUnixMillis() == 0
        || v.getStatus() != VersionStatus.VERSION_STATUS_ENABLED
        || v.getAcknowledgedByList().contains(ack.getNode())) {
      return unchanged(action, name, v.getVersion(), index, "no acknowledgement needed");
    }
    if (!v.getRequiredAcknowledgersList().contains(ack.getNode())) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "NOT_A_VALIDATOR",
          "node "
              + ack.getNode()
              + " does not validate version "
              + v.getVersion()
              + " of \""
              + name
              + "\"",
          name,
          index);
    }
    TreeSet<String> acknowledged = new TreeSet<>(v.getAcknowledgedByList());
    acknowledged.add(ack.getNode());
    KeyVersionRecord.Builder updated =
        v.toBuilder().clearAcknowledgedBy().addAllAcknowledgedBy(acknowledged);
    boolean complete = acknowledged.containsAll(v.getRequiredAcknowledgersList());
    if (complete && v.getValidatedTimeUnixMillis() == 0) {
      updated.setValidatedTimeUnixMillis(time);
    }
    return changed(
        action,
        replace(t.key(), updated.build(), index),
        v.getVersion(),
        index,
        complete ? "validated" : "acknowledged",
        "version=" + v.getVersion() + " node=" + ack.getNode() + (complete ? " validated" : ""),
        List.of(
            event(
                KeyEventType.KEY_EVENT_TYPE_ACKNOWLEDGED,
                name,
                v.getVersion(),
                command,
                time,
                "node=" + ack.getNode() + (complete ? " (all validators)" : ""))));
  }

  private Effects cancelRotation(CancelRotation cancel, Command command, long index, long time) {
    String action = "CANCEL_ROTATION";
    Target t = find(action, cancel.getName(), cancel.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    KeyRecord key = t.key();
    String name = key.getName();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_CANCELLED) {
      return unchanged(action, name, v.getVersion(), index, "cancelled already");
    }
    boolean eligible = KeyVersions.isEligible(v);
    boolean pending =
        v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
            && (v.getActivationTimeUnixMillis() > time || !eligible);
    if (!pending) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_NOT_PENDING",
          "version "
              + v.getVersion()
              + " of key \""
              + name
              + "\" is not pending; roll an activated version back instead",
          name,
          index);
    }
    if (cancel.getOnlyIfUnvalidated() && eligible && v.getValidationDeadlineUnixMillis() != 0) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_VALIDATED",
          "version " + v.getVersion() + " of key \"" + name + "\" passed its validation gate",
          name,
          index);
    }
    String reason = cancel.getReason().isEmpty() ? "cancelled" : cancel.getReason();
    KeyVersionRecord updated =
        v.toBuilder()
            .setStatus(VersionStatus.VERSION_STATUS_CANCELLED)
            .setStatusReason(reason)
            .build();
    KeyRecord.Builder changedKey = replace(key, updated, index).toBuilder();
    long period = key.getPolicy().getRotationPeriodMillis();
    if (period > 0) {
      // The schedule follows the version that stays primary again; if that makes the rotation
      // overdue (a scheduled rotation that failed its gate), it is tried again soon, not at once
      // and not a whole period later.
      KeyRecord restored = changedKey.build();
      int primary = KeyVersions.primaryVersionAt(restored, time);
      long fromPrimary =
          primary == 0
              ? 0
              : restored.getVersions(primary - 1).getActivationTimeUnixMillis() + period;
      changedKey.setNextRotationTimeUnixMillis(
          Math.max(fromPrimary, time + Math.min(CANCELLED_RETRY_MILLIS, period)));
    }
    return changed(
        action,
        changedKey.build(),
        v.getVersion(),
        index,
        "cancelled",
        "version=" + v.getVersion() + " reason=" + reason,
        List.of(
            event(
                KeyEventType.KEY_EVENT_TYPE_CANCELLED,
                name,
                v.getVersion(),
                command,
                time,
                reason)));
  }

  private Effects rollback(RollbackRotation rollback, Command command, long index, long time) {
    String action = "ROLLBACK_ROTATION";
    Target t = find(action, rollback.getName(), rollback.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    KeyRecord key = t.key();
    String name = key.getName();
    long effective = Math.max(time, rollback.getEffectiveTimeUnixMillis());
    if (KeyVersions.primaryVersionAt(key, time) != v.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_NOT_PRIMARY",
          "version "
              + v.getVersion()
              + " of key \""
              + name
              + "\" is not the primary; only the primary can be rolled back",
          name,
          index);
    }
    KeyVersionRecord demoted =
        v.toBuilder()
            .setDemotedTimeUnixMillis(effective)
            .setStatusReason(
                rollback.getReason().isEmpty()
                    ? "rolled back"
                    : "rolled back: " + rollback.getReason())
            .build();
    KeyRecord updated = replace(key, demoted, index);
    int previous = KeyVersions.primaryVersionAt(updated, effective);
    if (previous == 0) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "NO_PREVIOUS_VERSION",
          "key \"" + name + "\" has no earlier enabled version to fall back to; enable one first",
          name,
          index);
    }
    return changed(
        action,
        updated,
        previous,
        index,
        "rolled back to version " + previous,
        "version=" + v.getVersion() + " effective=" + effective + " primary=" + previous,
        List.of(
            event(
                KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK,
                name,
                v.getVersion(),
                command,
                time,
                "effective=" + effective + " primary=" + previous + " " + rollback.getReason()),
            event(
                KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
                name,
                previous,
                command,
                time,
                "by rollback, effective=" + effective)));
  }

  private Effects reportUsage(ReportUsage report, long index) {
    Map<String, KeyRecord.Builder> touched = new LinkedHashMap<>();
    long counted = 0;
    for (UsageCount count : report.getCountsList()) {
      KeyRecord.Builder key = touched.get(count.getName());
      if (key == null) {
        Optional<KeyRecord> found = state.key(count.getName());
        if (found.isEmpty()) {
          continue; // deleted meanwhile: nothing to count
        }
        key = found.get().toBuilder();
        touched.put(count.getName(), key);
      }
      int position = count.getVersion() - 1;
      if (position < 0 || position >= key.getVersionsCount()) {
        continue;
      }
      KeyVersionRecord v = key.getVersions(position);
      key.setVersions(
          position, v.toBuilder().setEncryptions(v.getEncryptions() + count.getEncryptions()));
      counted += count.getEncryptions();
    }
    List<KeyRecord> writes = new ArrayList<>();
    touched.values().forEach(b -> writes.add(b.build()));
    return new Effects(
        ok("", 0, index, 0, "counted " + counted),
        Optional.empty(),
        Optional.empty(),
        "REPORT_USAGE",
        "node=" + report.getNode() + " keys=" + writes.size() + " encryptions=" + counted,
        writes,
        Optional.empty());
  }

  private Effects setDependents(SetDependents change, Command command, long index, long time) {
    String action = "SET_DEPENDENTS";
    String name = change.getName();
    Optional<KeyRecord> found = state.key(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    List<String> dependents = change.getDependentsList();
    if (dependents.size() > MAX_DEPENDENTS) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "TOO_MANY_DEPENDENTS",
          "a key has at most " + MAX_DEPENDENTS + " dependents",
          name,
          index);
    }
    String previous = null;
    for (String dependent : dependents) {
      if (previous != null && previous.compareTo(dependent) >= 0) {
        return reject(
            action,
            Code.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
            "dependents must be unique and sorted",
            name,
            index);
      }
      previous = dependent;
      if (dependent.equals(name)) {
        return reject(
            action,
            Code.FAILED_PRECONDITION,
            "DEPENDENCY_CYCLE",
            "key \"" + name + "\" cannot depend on itself",
            name,
            index);
      }
      if (state.key(dependent).isEmpty()) {
        return reject(
            action,
            Code.NOT_FOUND,
            "DEPENDENT_NOT_FOUND",
            "dependent key \"" + dependent + "\" not found",
            name,
            index);
      }
    }
    Optional<List<String>> cycle = cycleThrough(name, dependents);
    if (cycle.isPresent()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "DEPENDENCY_CYCLE",
          "declaring these dependents would make a cycle: " + String.join(" -> ", cycle.get()),
          name,
          index);
    }
    KeyRecord updated =
        found.get().toBuilder()
            .clearDependents()
            .addAllDependents(dependents)
            .setRevision(index)
            .build();
    String detail = "dependents=" + dependents;
    return changed(
        action,
        updated,
        0,
        index,
        "dependents set",
        detail,
        List.of(event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, command, time, detail)));
  }

  /** A path from {@code name} back to itself if it declared {@code dependents}, if one exists. */
  private Optional<List<String>> cycleThrough(String name, List<String> dependents) {
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    for (String d : dependents) {
      if (seen.add(d)) {
        parent.put(d, name);
        queue.add(d);
      }
    }
    while (!queue.isEmpty()) {
      String current = queue.poll();
      List<String> next =
          state.key(current).<List<String>>map(KeyRecord::getDependentsList).orElse(List.of());
      for (String n : next) {
        if (n.equals(name)) {
          List<String> path = new ArrayList<>();
          path.add(name);
          for (String p = current; !p.equals(name); p = parent.get(p)) {
            path.add(1, p);
          }
          path.add(name);
          return Optional.of(path);
        }
        if (seen.add(n)) {
          parent.put(n, current);
          queue.add(n);
        }
      }
    }
    return Optional.empty();
  }

  private Effects recordActivation(
      RecordActivation record, Command command, long index, long time) {
    String action = "RECORD_ACTIVATION";
    Target t = find(action, record.getName(), record.getVersion(), index);
    if (t.rejection() != null) {
      return t.rejection();
    }
    KeyVersionRecord v = t.version();
    KeyRecord key = t.key();
    String name = key.getName();
    if (v.getActivationRecorded()) {
      return unchanged(action, name, v.getVersion(), index, "recorded already");
    }
    if (KeyVersions.primaryVersionAt(key, time) != v.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_NOT_PRIMARY",
          "version " + v.getVersion() + " of key \"" + name + "\" is not primary",
          name,
          index);
    }
    List<KeyEventRecord> events = new ArrayList<>();
    events.add(
        event(
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
            name,
            v.getVersion(),
            command,
            time,
            v.getRotationReason(),
            "activation=" + v.getActivationTimeUnixMillis()));
    for (int i = v.getVersion() - 2; i >= 0; i--) {
      KeyVersionRecord older = key.getVersions(i);
      if (older.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
          && KeyVersions.isEligible(older)) {
        events.add(
            event(
                KeyEventType.KEY_EVENT_TYPE_SUPERSEDED,
                name,
                older.getVersion(),
                command,
                time,
                v.getRotationReason(),
                "by version " + v.getVersion()));
        break;
      }
    }
    return changed(
        action,
        replace(key, v.toBuilder().setActivationRecorded(true).build(), index),
        v.getVersion(),
        index,
        "activation recorded",
        "version=" + v.getVersion(),
        events);
  }

  private Effects startBulkRotation(
      StartBulkRotation start, Command command, long index, long time) {
    String action = "START_BULK_ROTATION";
    String id = start.getJobId();
    if (id.isEmpty()) {
      return reject(
          action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "a job id is required", "", index);
    }
    if (state.bulkRotation(id).isPresent()) {
      return reject(
          action, Code.ALREADY_EXISTS, "JOB_EXISTS", "bulk rotation " + id + " exists", "", index);
    }
    int reason =
        start.getReason() == RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE
            ? RotationReason.ROTATION_REASON_MANUAL_VALUE
            : start.getReason();
    List<KeyRecord> marked = new ArrayList<>();
    for (KeyRecord key : state.keys()) {
      if (!start.getZone().isEmpty() && !start.getZone().equals(key.getZone())) {
        continue;
      }
      if (!key.getLabelsList().containsAll(start.getLabelSelectorList())) {
        continue;
      }
      marked.add(
          key.toBuilder()
              .setRotationRequestedBy("bulk:" + id)
              .setRotationRequestedReason(reason)
              .setNextRotationTimeUnixMillis(time)
              .setRevision(index)
              .build());
    }
    BulkRotationRecord job =
        BulkRotationRecord.newBuilder()
            .setId(id)
            .setZone(start.getZone())
            .addAllLabelSelector(start.getLabelSelectorList())
            .setReason(reason)
            .setStartTimeUnixMillis(time)
            .setTotal(marked.size())
            .setStartedByRequestId(command.getRequestId())
            .build();
    return new Effects(
        ok("", marked.size(), index, 0, "bulk rotation of " + marked.size() + " keys"),
        Optional.empty(),
        Optional.empty(),
        action,
        "job="
            + id
            + " zone="
            + start.getZone()
            + " selector="
            + labels(start.getLabelSelectorList())
            + " keys="
            + marked.size(),
        marked,
        Optional.empty(),
        List.of(),
        Optional.of(job));
  }

  private static String labels(List<Label> labels) {
    StringBuilder out = new StringBuilder("{");
    for (Label l : labels) {
      if (out.length() > 1) {
        out.append(',');
      }
      out.append(l.getKey()).append('=').append(l.getValue());
    }
    return out.append('}').toString();
  }
}
