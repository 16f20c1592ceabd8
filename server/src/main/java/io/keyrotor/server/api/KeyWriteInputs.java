package io.keyrotor.server.api;

import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.LimitSettings.Limit;
import io.keyrotor.server.config.RotationSettings;
import java.time.Duration;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The checked inputs of KeyService's writes, the first step of the {@link WritePath}: each {@code
 * of} validates a request field by field ({@link Requests}) and refuses bad input with
 * INVALID_ARGUMENT before anything else happens. A request id left empty is generated here.
 */
final class KeyWriteInputs {
  private KeyWriteInputs() {}

  /**
   * CreateKey: a key with its first version, active after {@code activationDelayMillis}.
   *
   * @param requestIdFromCaller whether the caller named the request id (it may then be a retry of a
   *     create that was applied, which the log answers with its first outcome)
   */
  record NewKey(
      String name,
      String zone,
      List<Label> labels,
      RotationPolicyRecord policy,
      long activationDelayMillis,
      String requestId,
      boolean requestIdFromCaller) {
    static NewKey of(
        CreateKeyRequest request,
        Duration minimumRotationPeriod,
        LimitSettings limits,
        TemplateZones templateZones) {
      String name = Requests.newKeyName(request.getName(), limits);
      String zone = Requests.zone(request.getZone());
      List<Label> labels = Requests.labels(request.getLabelsMap(), limits);
      RotationPolicyRecord policy =
          Requests.policy(
              request.getRotationPolicy(),
              request.hasRotationPolicy(),
              request.getTemplate(),
              minimumRotationPeriod);
      templateZones.require(policy, zone, name, com.google.rpc.Code.INVALID_ARGUMENT);
      long delay =
          Requests.activationDelay(request.hasActivationDelay(), request.getActivationDelay());
      return new NewKey(
          name,
          zone,
          labels,
          policy,
          Math.max(0, delay),
          Requests.requestId(request.getRequestId()),
          !request.getRequestId().isEmpty());
    }
  }

  /**
   * RotateKey: a new version, active after {@code activationDelayMillis} (negative: the key's
   * policy decides, or the node's default).
   */
  record Rotation(
      String name,
      long activationDelayMillis,
      RotationReason reason,
      int expectedLatestVersion,
      String requestId) {
    static Rotation of(RotateKeyRequest request) {
      String name = Requests.keyName(request.getName());
      long delay =
          Requests.activationDelay(request.hasActivationDelay(), request.getActivationDelay());
      return new Rotation(
          name,
          delay,
          rotationReason(request.getReason()),
          request.getExpectedLatestVersion(),
          Requests.requestId(request.getRequestId()));
    }
  }

  /** DisableKeyVersion and EnableKeyVersion. */
  record VersionStatusChange(String name, int version, VersionStatus status, String requestId) {
    static VersionStatusChange disable(DisableKeyVersionRequest request) {
      return of(
          request.getName(),
          request.getVersion(),
          VersionStatus.VERSION_STATUS_DISABLED,
          request.getRequestId());
    }

    static VersionStatusChange enable(EnableKeyVersionRequest request) {
      return of(
          request.getName(),
          request.getVersion(),
          VersionStatus.VERSION_STATUS_ENABLED,
          request.getRequestId());
    }

    private static VersionStatusChange of(
        String name, long version, VersionStatus status, String requestId) {
      return new VersionStatusChange(
          Requests.keyName(name), Requests.version(version), status, Requests.requestId(requestId));
    }
  }

  /** SetRotationPolicy. */
  record PolicyChange(String name, RotationPolicyRecord policy, String requestId) {
    static PolicyChange of(SetRotationPolicyRequest request, Duration minimumRotationPeriod) {
      String name = Requests.keyName(request.getName());
      RotationPolicyRecord policy =
          Requests.policy(
              request.getRotationPolicy(),
              request.hasRotationPolicy(),
              request.getTemplate(),
              minimumRotationPeriod);
      return new PolicyChange(name, policy, Requests.requestId(request.getRequestId()));
    }
  }

  /** ScheduleKeyVersionDestroy: erase the material after {@code waitingPeriodMillis}. */
  record DestroySchedule(String name, int version, long waitingPeriodMillis, String requestId) {
    static DestroySchedule of(ScheduleKeyVersionDestroyRequest request, RotationSettings settings) {
      String name = Requests.keyName(request.getName());
      int version = Requests.version(request.getVersion());
      long waiting =
          request.hasWaitingPeriod()
              ? Requests.millis(request.getWaitingPeriod(), "waiting_period")
              : settings.destroyDefaultWait().toMillis();
      if (waiting < settings.destroyMinimumWait().toMillis()) {
        throw ApiErrors.invalid(
            "waiting_period",
            ErrorReason.WAITING_PERIOD_TOO_SHORT,
            "waiting_period "
                + Duration.ofMillis(waiting)
                + " is below this cluster's minimum of "
                + settings.destroyMinimumWait()
                + " (keys.destroy-minimum-wait)");
      }
      return new DestroySchedule(
          name, version, waiting, Requests.requestId(request.getRequestId()));
    }
  }

  /** CancelKeyVersionDestroy. */
  record DestroyCancellation(String name, int version, String requestId) {
    static DestroyCancellation of(CancelKeyVersionDestroyRequest request) {
      return new DestroyCancellation(
          Requests.keyName(request.getName()),
          Requests.version(request.getVersion()),
          Requests.requestId(request.getRequestId()));
    }
  }

  /** CancelRotation: the pending version becomes CANCELLED, for {@code reason}. */
  record RotationCancellation(String name, int version, String reason, String requestId) {
    static RotationCancellation of(CancelRotationRequest request, LimitSettings limits) {
      return new RotationCancellation(
          Requests.keyName(request.getName()),
          Requests.version(request.getVersion()),
          request.getReason().isEmpty()
              ? "cancelled by an operator"
              : Requests.reason(request.getReason(), limits),
          Requests.requestId(request.getRequestId()));
    }
  }

  /** RollbackRotation, effective at {@code effectiveTimeUnixMillis} (0: the leader's now). */
  record Rollback(
      String name, int version, String reason, long effectiveTimeUnixMillis, String requestId) {
    static Rollback of(RollbackRotationRequest request, LimitSettings limits) {
      return new Rollback(
          Requests.keyName(request.getName()),
          Requests.version(request.getVersion()),
          Requests.reason(request.getReason(), limits),
          request.hasEffectiveTime()
              ? Requests.millis(request.getEffectiveTime(), "effective_time")
              : 0,
          Requests.requestId(request.getRequestId()));
    }
  }

  /** SetVersionFloors. */
  record VersionFloors(
      String name, int minDecryptionVersion, int minEncryptionVersion, String requestId) {
    static VersionFloors of(SetVersionFloorsRequest request) {
      return new VersionFloors(
          Requests.keyName(request.getName()),
          request.getMinDecryptionVersion(),
          request.getMinEncryptionVersion(),
          Requests.requestId(request.getRequestId()));
    }
  }

  /** SetKeyDependents: the keys that rotate after {@code name}, in name order. */
  record Dependents(String name, SortedSet<String> dependents, String requestId) {
    static Dependents of(SetKeyDependentsRequest request, LimitSettings limits) {
      int most = limits.get(Limit.DEPENDENTS_PER_KEY);
      if (request.getDependentsCount() > most) {
        throw Requests.overLimit(
            "dependents",
            ErrorReason.TOO_MANY_DEPENDENTS,
            Limit.DEPENDENTS_PER_KEY,
            most,
            request.getDependentsCount() + " dependents; this cluster allows " + most + " per key");
      }
      SortedSet<String> dependents = new TreeSet<>();
      for (String dependent : request.getDependentsList()) {
        dependents.add(Requests.keyName(dependent, "dependents"));
      }
      return new Dependents(
          Requests.keyName(request.getName()),
          dependents,
          Requests.requestId(request.getRequestId()));
    }
  }

  /**
   * StartBulkRotation: every key of {@code zoneOrEmpty} carrying every label of {@code
   * labelSelector}; one of the two is required. The request id is the job's id.
   */
  record BulkRotationJob(
      String zoneOrEmpty, List<Label> labelSelector, RotationReason reason, String jobId) {
    static BulkRotationJob of(StartBulkRotationRequest request, LimitSettings limits) {
      String zone = request.getZone().isEmpty() ? "" : Requests.zone(request.getZone());
      List<Label> selector =
          Requests.labels(request.getLabelSelectorMap(), limits, "label_selector");
      if (zone.isEmpty() && selector.isEmpty()) {
        throw ApiErrors.invalid(
            "label_selector",
            ErrorReason.SELECTOR_REQUIRED,
            "a bulk rotation needs a zone or a label selector (rotating every key of the cluster"
                + " at once is refused)");
      }
      if (request.getReason() == RotationReason.UNRECOGNIZED) {
        throw ApiErrors.invalid("reason", ErrorReason.INVALID_REASON, "unknown rotation reason");
      }
      return new BulkRotationJob(
          zone, selector, request.getReason(), Requests.requestId(request.getRequestId()));
    }
  }

  /** A rotation's reason: unset means MANUAL; a number the API does not define is refused. */
  private static RotationReason rotationReason(RotationReason requested) {
    if (requested == RotationReason.UNRECOGNIZED) {
      throw ApiErrors.invalid("reason", ErrorReason.INVALID_REASON, "unknown rotation reason");
    }
    return requested == RotationReason.ROTATION_REASON_UNSPECIFIED
        ? RotationReason.ROTATION_REASON_MANUAL
        : requested;
  }
}
