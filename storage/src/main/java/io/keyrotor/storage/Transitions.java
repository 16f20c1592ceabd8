package io.keyrotor.storage;

import static io.keyrotor.storage.Outcomes.event;
import static io.keyrotor.storage.Outcomes.notFound;
import static io.keyrotor.storage.Outcomes.ok;
import static io.keyrotor.storage.Outcomes.reasonName;
import static io.keyrotor.storage.Outcomes.reject;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The deterministic transition of the replicated state: command + current records + log index +
 * effective time -> {@link Effects}. It reads no clock and no random source; every input arrives in
 * the command or the arguments. Rule violations are results (never exceptions), so every replica
 * records the same outcome.
 */
public final class Transitions {
  /** Upper bound on versions per key, to keep one record well below RocksDB's value sweet spot. */
  public static final int MAX_VERSIONS_PER_KEY = 10_000;

  /** Most rotations in one RotateKeys batch. */
  public static final int MAX_ROTATIONS_PER_BATCH = 1_000;

  /**
   * The validation margin of a gated rotation, as a fraction of its activation delay: every serving
   * node must acknowledge the new version before {@code activation - delay / MARGIN_DIVISOR}.
   */
  public static final int MARGIN_DIVISOR = 5;

  private final StateReader state;
  private final ZoneMasterKeyTransitions zoneMasterKeys;
  private final LifecycleTransitions lifecycle;

  /**
   * @param keys reads the current record of a key by name (tests that need no nodes)
   */
  public Transitions(Function<String, Optional<KeyRecord>> keys) {
    this(
        StateReader.ofKeys(keys),
        new ZoneMasterKeyTransitions(keys, List::of, zone -> Optional.empty()));
  }

  /**
   * @param state reads keys, nodes and jobs as they are before the command
   * @param zoneMasterKeys the transitions of zone master key rotation
   */
  public Transitions(StateReader state, ZoneMasterKeyTransitions zoneMasterKeys) {
    this.state = state;
    this.zoneMasterKeys = zoneMasterKeys;
    this.lifecycle = new LifecycleTransitions(state);
  }

  /** The effects of {@code command} applied at log {@code index} and effective {@code time}. */
  public Effects apply(Command command, long index, long timeMillis) {
    switch (command.getBodyCase()) {
      case CREATE_KEY:
        return createKey(command.getCreateKey(), command, index, timeMillis);
      case ROTATE_KEY:
        return rotateKey(state, command.getRotateKey(), command, index, timeMillis);
      case ROTATE_KEYS:
        return rotateKeys(command.getRotateKeys(), command, index, timeMillis);
      case SET_VERSION_STATUS:
        return setVersionStatus(command.getSetVersionStatus(), command, index, timeMillis);
      case SET_ROTATION_POLICY:
        return setRotationPolicy(command.getSetRotationPolicy(), command, index, timeMillis);
      case REGISTER_NODE:
        return registerNode(command.getRegisterNode(), index, timeMillis);
      case START_ZONE_MASTER_KEY_ROTATION:
      case REWRAP_KEKS:
      case RETIRE_ZONE_MASTER_KEY_VERSION:
        return zoneMasterKeys.apply(command, index, timeMillis);
      case SCHEDULE_VERSION_DESTROY:
      case CANCEL_VERSION_DESTROY:
      case DESTROY_VERSION:
      case SET_VERSION_FLOORS:
      case ACKNOWLEDGE_VERSION:
      case CANCEL_ROTATION:
      case ROLLBACK_ROTATION:
      case REPORT_USAGE:
      case SET_DEPENDENTS:
      case RECORD_ACTIVATION:
      case START_BULK_ROTATION:
        return lifecycle.apply(command, index, timeMillis);
      default:
        return reject(
            "UNKNOWN",
            Code.INVALID_ARGUMENT,
            "UNKNOWN_COMMAND",
            "this node does not know the command kind " + command.getBodyCase(),
            "",
            index);
    }
  }

  /**
   * When the policy next rotates a key whose newest version activates at {@code activation}: the
   * explicit anchor if one is set and still ahead, else activation + period; 0 for no schedule.
   */
  static long nextRotationTime(RotationPolicyRecord policy, long activation, long time) {
    long anchor = policy.getNextRotationTimeUnixMillis();
    if (anchor > time) {
      return anchor;
    }
    return policy.getRotationPeriodMillis() > 0 ? activation + policy.getRotationPeriodMillis() : 0;
  }

  private Effects createKey(CreateKey create, Command command, long index, long time) {
    String action = "CREATE_KEY";
    String name = create.getName();
    Optional<String> invalid =
        Validation.checkKeyName(name)
            .or(() -> Validation.checkZoneName(create.getZone()))
            .or(() -> Validation.checkLabels(create.getLabelsList()))
            .or(() -> Validation.checkPolicy(create.getPolicy()))
            .or(() -> checkMaterial(create.getKek(), create.getZone()));
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), name, index);
    }
    if (state.key(name).isPresent()) {
      return reject(
          action,
          Code.ALREADY_EXISTS,
          "KEY_EXISTS",
          "key \"" + name + "\" already exists",
          name,
          index);
    }
    long activation = Math.max(time, create.getActivationTimeUnixMillis());
    boolean activeNow = activation <= time;
    KeyVersionRecord first =
        KeyVersionRecord.newBuilder()
            .setVersion(1)
            .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
            .setCreateTimeUnixMillis(time)
            .setActivationTimeUnixMillis(activation)
            .setKek(create.getKek())
            .setRotationReason(RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE)
            .setCreatedByRequestId(command.getRequestId())
            .setActivationRecorded(activeNow)
            .build();
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName(name)
            .setZone(create.getZone())
            .addAllLabels(create.getLabelsList())
            .setCreateTimeUnixMillis(time)
            .addVersions(first)
            .setPolicy(create.getPolicy())
            .setRevision(index)
            .setNextRotationTimeUnixMillis(nextRotationTime(create.getPolicy(), activation, time))
            .build();
    List<KeyEventRecord> events = new ArrayList<>();
    events.add(
        event(
            KeyEventType.KEY_EVENT_TYPE_CREATED,
            name,
            1,
            command,
            time,
            "zone=" + create.getZone()));
    events.add(
        event(
            activeNow ? KeyEventType.KEY_EVENT_TYPE_ACTIVATED : KeyEventType.KEY_EVENT_TYPE_PENDING,
            name,
            1,
            command,
            time,
            "activation=" + activation));
    return new Effects(
            ok(name, 1, index, activation, "created"),
            Optional.of(key),
            Optional.empty(),
            action,
            "zone=" + create.getZone() + " activation=" + activation)
        .withEvents(events);
  }

  /** A rotation against {@code view} (the store, or the overlay of a batch). */
  private Effects rotateKey(
      StateReader view, RotateKey rotate, Command command, long index, long time) {
    String action = "ROTATE_KEY";
    String name = rotate.getName();
    Optional<KeyRecord> found = view.key(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    KeyRecord key = found.get();
    int latest = KeyVersions.latestVersion(key);
    if (rotate.getExpectedLatestVersion() != 0 && rotate.getExpectedLatestVersion() != latest) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_CONFLICT",
          "key \""
              + name
              + "\" is at version "
              + latest
              + ", not "
              + rotate.getExpectedLatestVersion()
              + " as the rotation expected",
          name,
          index);
    }
    Optional<String> invalid = checkMaterial(rotate.getKek(), key.getZone());
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), name, index);
    }
    boolean compromise = rotate.getReason() == RotationReason.ROTATION_REASON_COMPROMISE_VALUE;
    Optional<KeyVersionRecord> pending = KeyVersions.pendingAt(key, time);
    if (pending.isPresent() && !compromise) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ROTATION_PENDING",
          "key \""
              + name
              + "\" already has version "
              + pending.get().getVersion()
              + " pending activation; wait for it, or cancel or disable it first",
          name,
          index);
    }
    if (latest >= MAX_VERSIONS_PER_KEY) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "TOO_MANY_VERSIONS",
          "key \"" + name + "\" has reached " + MAX_VERSIONS_PER_KEY + " versions",
          name,
          index);
    }
    // The activation delay the proposer asked for (as stamped, measured from the command time).
    long delay = compromise ? 0 : Math.max(0, rotate.getActivationTimeUnixMillis() - time);
    // A scheduled rotation takes effect as if applied at its due time when the command's time is
    // earlier (the leader's clock stepped back after it noticed the due time): it activates at
    // max(time, due) + delay, never before due + delay. The version is created (and gated, by the
    // requested delay alone) at the command's time; a compromise rotation never waits.
    long effectiveTime = compromise ? time : Math.max(time, rotate.getDueTimeUnixMillis());
    long activation = effectiveTime + delay;
    int newVersion = latest + 1;
    int previousPrimary = KeyVersions.primaryVersionAt(key, time);
    List<KeyEventRecord> events = new ArrayList<>();
    KeyRecord.Builder updated =
        key.toBuilder()
            .setRevision(index)
            .clearRotationRequestedBy()
            .clearRotationRequestedReason();
    if (compromise) {
      // A compromised key stops being used in the same command that replaces it: the previous
      // primary and any pending version are disabled.
      for (int i = 0; i < updated.getVersionsCount(); i++) {
        KeyVersionRecord v = updated.getVersions(i);
        boolean isPending =
            v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
                && (v.getActivationTimeUnixMillis() > time || !KeyVersions.isEligible(v));
        if (v.getVersion() == previousPrimary || isPending) {
          updated.setVersions(
              i,
              v.toBuilder()
                  .setStatus(VersionStatus.VERSION_STATUS_DISABLED)
                  .setStatusReason("disabled by a compromise rotation")
                  .build());
          events.add(
              event(
                  KeyEventType.KEY_EVENT_TYPE_DISABLED,
                  name,
                  v.getVersion(),
                  command,
                  time,
                  rotate.getReason(),
                  "compromise rotation"));
        }
      }
    }
    KeyVersionRecord.Builder version =
        KeyVersionRecord.newBuilder()
            .setVersion(newVersion)
            .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
            .setCreateTimeUnixMillis(time)
            .setActivationTimeUnixMillis(activation)
            .setKek(rotate.getKek())
            .setRotationReason(rotate.getReason())
            .setCreatedByRequestId(command.getRequestId());
    List<String> validators = servingNodes(view.nodes(), key.getZone());
    boolean gated = !compromise && delay > 0 && !validators.isEmpty();
    if (gated) {
      version
          .addAllRequiredAcknowledgers(validators)
          .setValidationDeadlineUnixMillis(activation - delay / MARGIN_DIVISOR);
    }
    boolean activeNow = activation <= time && !gated;
    version.setActivationRecorded(activeNow);
    updated.addVersions(version);
    RotationPolicyRecord policy = key.getPolicy();
    if (policy.getNextRotationTimeUnixMillis() != 0
        && policy.getNextRotationTimeUnixMillis() <= effectiveTime) {
      policy = policy.toBuilder().clearNextRotationTimeUnixMillis().build(); // the anchor is used
      updated.setPolicy(policy);
    }
    updated.setNextRotationTimeUnixMillis(nextRotationTime(policy, activation, effectiveTime));
    if (activeNow) {
      events.add(
          event(
              KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
              name,
              newVersion,
              command,
              time,
              rotate.getReason(),
              "activation=" + activation));
      if (previousPrimary != 0 && !compromise) {
        events.add(
            event(
                KeyEventType.KEY_EVENT_TYPE_SUPERSEDED,
                name,
                previousPrimary,
                command,
                time,
                rotate.getReason(),
                "by version " + newVersion));
      }
    } else {
      events.add(
          event(
              KeyEventType.KEY_EVENT_TYPE_PENDING,
              name,
              newVersion,
              command,
              time,
              rotate.getReason(),
              "activation="
                  + activation
                  + (gated
                      ? " validation_deadline="
                          + version.getValidationDeadlineUnixMillis()
                          + " validators="
                          + validators
                      : "")));
    }
    // Keys that depend on this one rotate after it: the scheduler rotates them next.
    List<KeyRecord> dependents = new ArrayList<>();
    for (String dependentName : key.getDependentsList()) {
      view.key(dependentName)
          .ifPresent(
              dependent ->
                  dependents.add(
                      dependent.toBuilder()
                          .setRotationRequestedBy(name)
                          .setRotationRequestedReason(
                              RotationReason.ROTATION_REASON_DEPENDENCY_VALUE)
                          .setNextRotationTimeUnixMillis(time)
                          .setRevision(index)
                          .build()));
    }
    return new Effects(
            ok(name, newVersion, index, activation, "rotated"),
            Optional.of(updated.build()),
            Optional.empty(),
            action,
            "version="
                + newVersion
                + " activation="
                + activation
                + (effectiveTime > time ? " due=" + effectiveTime : "")
                + " reason="
                + reasonName(rotate.getReason())
                + (gated ? " gated" : ""),
            dependents,
            Optional.empty())
        .withEvents(events);
  }

  /**
   * A batch of rotations: each applies on its own (with its own compare-and-set) against the state
   * as the batch left it, so one key twice in a batch rotates once.
   */
  private Effects rotateKeys(RotateKeys batch, Command command, long index, long time) {
    if (batch.getRotationsCount() > MAX_ROTATIONS_PER_BATCH) {
      return reject(
          "ROTATE_KEYS",
          Code.INVALID_ARGUMENT,
          "BATCH_TOO_LARGE",
          "a batch holds at most " + MAX_ROTATIONS_PER_BATCH + " rotations",
          "",
          index);
    }
    Map<String, KeyRecord> overlay = new LinkedHashMap<>();
    StateReader view = overlay(overlay);
    List<KeyEventRecord> events = new ArrayList<>();
    int rotated = 0;
    int skipped = 0;
    for (RotateKey rotate : batch.getRotationsList()) {
      Effects one = rotateKey(view, rotate, command, index, time);
      if (one.result().getCode() == Code.OK_VALUE) {
        rotated++;
        one.allKeyWrites().forEach(k -> overlay.put(k.getName(), k));
        events.addAll(one.events());
      } else {
        skipped++;
      }
    }
    List<KeyRecord> writes = new ArrayList<>(overlay.values());
    return new Effects(
            ok("", rotated, index, 0, rotated + " rotated, " + skipped + " skipped"),
            Optional.empty(),
            Optional.empty(),
            "ROTATE_KEYS",
            "rotated=" + rotated + " skipped=" + skipped,
            writes,
            Optional.empty())
        .withEvents(events);
  }

  private StateReader overlay(Map<String, KeyRecord> overlay) {
    return new StateReader() {
      @Override
      public Optional<KeyRecord> key(String name) {
        KeyRecord changed = overlay.get(name);
        return changed != null ? Optional.of(changed) : state.key(name);
      }

      @Override
      public Collection<KeyRecord> keys() {
        return state.keys();
      }

      @Override
      public Collection<NodeRecord> nodes() {
        return state.nodes();
      }

      @Override
      public Optional<BulkRotationRecord> bulkRotation(String id) {
        return state.bulkRotation(id);
      }
    };
  }

  /**
   * The registered nodes that serve {@code zone}, sorted by id: the validators of its rotations.
   */
  static List<String> servingNodes(Collection<NodeRecord> nodes, String zone) {
    List<String> out = new ArrayList<>();
    for (NodeRecord node : nodes) {
      if (node.getZonesList().contains(zone)) {
        out.add(node.getId());
      }
    }
    out.sort(null);
    return out;
  }

  private Effects setVersionStatus(
      SetVersionStatus change, Command command, long index, long time) {
    String action =
        change.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
            ? "ENABLE_VERSION"
            : "DISABLE_VERSION";
    String name = change.getName();
    Optional<KeyRecord> found = state.key(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    KeyRecord key = found.get();
    Optional<KeyVersionRecord> maybeVersion = KeyVersions.find(key, change.getVersion());
    if (maybeVersion.isEmpty()) {
      return Outcomes.versionNotFound(
          action, name, change.getVersion(), key.getVersionsCount(), index);
    }
    KeyVersionRecord version = maybeVersion.get();
    VersionStatus current = version.getStatus();
    VersionStatus target = change.getStatus();
    if (target != VersionStatus.VERSION_STATUS_ENABLED
        && target != VersionStatus.VERSION_STATUS_DISABLED) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "INVALID_ARGUMENT",
          "a version can be enabled or disabled this way, not set to " + target,
          name,
          index);
    }
    if (current == VersionStatus.VERSION_STATUS_DESTROYED
        || current == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
        || current == VersionStatus.VERSION_STATUS_CANCELLED) {
      String word = current.name().substring("VERSION_STATUS_".length());
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_" + word,
          "version "
              + version.getVersion()
              + " of key \""
              + name
              + "\" is "
              + word.toLowerCase().replace('_', ' ')
              + " and cannot be "
              + (target == VersionStatus.VERSION_STATUS_ENABLED ? "enabled" : "disabled")
              + (current == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
                  ? " (cancel the destroy first)"
                  : ""),
          name,
          index);
    }
    if (target == VersionStatus.VERSION_STATUS_DISABLED
        && KeyVersions.primaryVersionAt(key, time) == version.getVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "VERSION_IS_PRIMARY",
          "version "
              + version.getVersion()
              + " is the primary of key \""
              + name
              + "\"; rotate the key first (or rotate with reason compromise, which disables it)",
          name,
          index);
    }
    if (current == target) {
      // Idempotent: nothing changes, and the revision stays.
      return new Effects(
          ok(name, version.getVersion(), index, 0, "unchanged"),
          Optional.empty(),
          Optional.empty(),
          action,
          "version=" + version.getVersion() + " unchanged");
    }
    KeyRecord updated =
        key.toBuilder()
            .setVersions(
                version.getVersion() - 1,
                version.toBuilder()
                    .setStatus(target)
                    .setStatusReason(
                        target == VersionStatus.VERSION_STATUS_DISABLED ? "disabled" : "")
                    .build())
            .setRevision(index)
            .build();
    return new Effects(
            ok(name, version.getVersion(), index, 0, "changed"),
            Optional.of(updated),
            Optional.empty(),
            action,
            "version=" + version.getVersion())
        .withEvents(
            List.of(
                event(
                    target == VersionStatus.VERSION_STATUS_DISABLED
                        ? KeyEventType.KEY_EVENT_TYPE_DISABLED
                        : KeyEventType.KEY_EVENT_TYPE_ENABLED,
                    name,
                    version.getVersion(),
                    command,
                    time,
                    "")));
  }

  private Effects setRotationPolicy(
      SetRotationPolicy change, Command command, long index, long time) {
    String action = "SET_ROTATION_POLICY";
    String name = change.getName();
    Optional<KeyRecord> found = state.key(name);
    if (found.isEmpty()) {
      return notFound(action, name, index);
    }
    Optional<String> invalid = Validation.checkPolicy(change.getPolicy());
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_POLICY", invalid.get(), name, index);
    }
    KeyRecord key = found.get();
    long latestActivation =
        key.getVersions(key.getVersionsCount() - 1).getActivationTimeUnixMillis();
    KeyRecord updated =
        key.toBuilder()
            .setPolicy(change.getPolicy())
            .setNextRotationTimeUnixMillis(
                nextRotationTime(change.getPolicy(), latestActivation, time))
            .setRevision(index)
            .build();
    String detail =
        "period_ms="
            + change.getPolicy().getRotationPeriodMillis()
            + " max_encryptions="
            + change.getPolicy().getMaxEncryptions()
            + " next_rotation="
            + updated.getNextRotationTimeUnixMillis();
    return new Effects(
            ok(name, 0, index, 0, "policy set"),
            Optional.of(updated),
            Optional.empty(),
            action,
            detail)
        .withEvents(
            List.of(
                event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, command, time, detail)));
  }

  private Effects registerNode(RegisterNode register, long index, long time) {
    NodeRecord node = register.getNode();
    if (node.getId().isEmpty()) {
      return reject(
          "REGISTER_NODE",
          Code.INVALID_ARGUMENT,
          "INVALID_ARGUMENT",
          "a node id is required",
          "",
          index);
    }
    NodeRecord stored = node.toBuilder().setRegisteredTimeUnixMillis(time).build();
    return new Effects(
        ok("", 0, index, 0, "registered"),
        Optional.empty(),
        Optional.of(stored),
        "REGISTER_NODE",
        "node=" + node.getId() + " region=" + node.getRegion() + " zones=" + node.getZonesList());
  }

  static Optional<String> checkMaterial(WrappedKeyMaterial kek, String zone) {
    if (kek.getCiphertext().isEmpty()) {
      return Optional.of("the command carries no wrapped key material");
    }
    if (!kek.getZone().equals(zone)) {
      return Optional.of(
          "key material is wrapped for zone \"" + kek.getZone() + "\", not \"" + zone + "\"");
    }
    return Optional.empty();
  }
}
