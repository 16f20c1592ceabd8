package io.keyrotor.storage.apply;

import static io.keyrotor.storage.apply.KeyHandler.findingKey;
import static io.keyrotor.storage.apply.VersionHandler.findingVersion;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.AdmitNode;
import io.keyrotor.proto.internal.v1.BootstrapAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.proto.internal.v1.RecordDataAuditHead;
import io.keyrotor.proto.internal.v1.RecordDenials;
import io.keyrotor.proto.internal.v1.RegisterAuditKey;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RemoveNode;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.ReserveEncryptions;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.SignDestructionReceipt;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.apply.access.ApplyAuthorization;
import io.keyrotor.storage.apply.access.BootstrapAuthorizationPolicyHandler;
import io.keyrotor.storage.apply.access.RecordDataAuditHeadHandler;
import io.keyrotor.storage.apply.access.RecordDenialsHandler;
import io.keyrotor.storage.apply.access.SetAuthorizationPolicyHandler;
import io.keyrotor.storage.apply.audit.RecordAuditCheckpointHandler;
import io.keyrotor.storage.apply.audit.RegisterAuditKeyHandler;
import io.keyrotor.storage.apply.audit.SignDestructionReceiptHandler;
import io.keyrotor.storage.apply.audit.TrimHistoryHandler;
import io.keyrotor.storage.apply.key.CreateKeyHandler;
import io.keyrotor.storage.apply.key.ReportUsageHandler;
import io.keyrotor.storage.apply.key.ReserveEncryptionsHandler;
import io.keyrotor.storage.apply.key.RotateKeyHandler;
import io.keyrotor.storage.apply.key.RotateKeysHandler;
import io.keyrotor.storage.apply.key.SetDependentsHandler;
import io.keyrotor.storage.apply.key.SetRotationPolicyHandler;
import io.keyrotor.storage.apply.key.StartBulkRotationHandler;
import io.keyrotor.storage.apply.node.AdmitNodeHandler;
import io.keyrotor.storage.apply.node.RegisterNodeHandler;
import io.keyrotor.storage.apply.node.RemoveNodeHandler;
import io.keyrotor.storage.apply.node.SetClusterVersionHandler;
import io.keyrotor.storage.apply.version.AcknowledgeVersionHandler;
import io.keyrotor.storage.apply.version.CancelRotationHandler;
import io.keyrotor.storage.apply.version.CancelVersionDestroyHandler;
import io.keyrotor.storage.apply.version.DestroyVersionHandler;
import io.keyrotor.storage.apply.version.RecordActivationHandler;
import io.keyrotor.storage.apply.version.RollbackRotationHandler;
import io.keyrotor.storage.apply.version.ScheduleVersionDestroyHandler;
import io.keyrotor.storage.apply.version.SetVersionFloorsHandler;
import io.keyrotor.storage.apply.version.SetVersionStatusHandler;
import io.keyrotor.storage.apply.zone.RetireZoneMasterKeyVersionHandler;
import io.keyrotor.storage.apply.zone.RewrapKeksHandler;
import io.keyrotor.storage.apply.zone.StartZoneMasterKeyRotationHandler;
import io.keyrotor.storage.version.ApplyFeature;
import io.keyrotor.storage.version.ClusterVersion;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The deterministic transition of the replicated state: command + current records + log index +
 * effective time -> {@link Effects}, by one handler per command kind. It reads no clock and no
 * random source; every input arrives in the command or the arguments. Rule violations are results
 * (never exceptions), so every replica records the same outcome; a command kind this node does not
 * know (a newer node proposed it) is refused with UNKNOWN_COMMAND, and so is a membership command
 * below the cluster version that switches it on ({@link ApplyFeature#MEMBERSHIP_COMMANDS}), as the
 * base binary beside this one refuses it.
 *
 * <p>A command about an existing key or one of its versions reaches its handler with the key or
 * version found ({@link KeyHandler#findingKey}, {@link VersionHandler#findingVersion}): a missing
 * one is refused with KEY_NOT_FOUND or VERSION_NOT_FOUND before any rule of the command.
 *
 * <p>Before any of that, a command that carries a principal is checked against the authorisation
 * policy at its index ({@link ApplyAuthorization}): refused with PERMISSION_DENIED, it changes
 * nothing.
 */
public final class CommandDispatcher {
  private final StateReader state;
  private final Supplier<AccessPolicy> policy;
  private IntSupplier clusterVersion = () -> ClusterVersion.BASE;
  private final CommandHandler<CreateKey> createKey;
  private final CommandHandler<RotateKey> rotateKey;
  private final CommandHandler<RotateKeys> rotateKeys;
  private final CommandHandler<SetRotationPolicy> setRotationPolicy =
      findingKey(SetRotationPolicy::getName, new SetRotationPolicyHandler());
  private final CommandHandler<SetDependents> setDependents =
      findingKey(SetDependents::getName, new SetDependentsHandler());
  private final CommandHandler<StartBulkRotation> startBulkRotation =
      new StartBulkRotationHandler();
  private final CommandHandler<ReportUsage> reportUsage = new ReportUsageHandler();
  private final CommandHandler<ReserveEncryptions> reserveEncryptions =
      findingVersion(
          ReserveEncryptions::getName,
          ReserveEncryptions::getVersion,
          new ReserveEncryptionsHandler());
  // Finds its version itself: its audit detail names the verb even when the version is missing.
  private final CommandHandler<SetVersionStatus> setVersionStatus = new SetVersionStatusHandler();
  private final CommandHandler<ScheduleVersionDestroy> scheduleDestroy =
      findingVersion(
          ScheduleVersionDestroy::getName,
          ScheduleVersionDestroy::getVersion,
          new ScheduleVersionDestroyHandler());
  private final CommandHandler<CancelVersionDestroy> cancelDestroy =
      findingVersion(
          CancelVersionDestroy::getName,
          CancelVersionDestroy::getVersion,
          new CancelVersionDestroyHandler());
  private final CommandHandler<DestroyVersion> destroyVersion =
      findingVersion(
          DestroyVersion::getName, DestroyVersion::getVersion, new DestroyVersionHandler());
  private final CommandHandler<SetVersionFloors> setVersionFloors =
      findingKey(SetVersionFloors::getName, new SetVersionFloorsHandler());
  private final CommandHandler<AcknowledgeVersion> acknowledgeVersion =
      findingVersion(
          AcknowledgeVersion::getName,
          AcknowledgeVersion::getVersion,
          new AcknowledgeVersionHandler());
  private final CommandHandler<CancelRotation> cancelRotation;
  private final CommandHandler<RollbackRotation> rollbackRotation;
  private final CommandHandler<RecordActivation> recordActivation =
      findingVersion(
          RecordActivation::getName, RecordActivation::getVersion, new RecordActivationHandler());
  private final CommandHandler<RegisterNode> registerNode = new RegisterNodeHandler();
  private final CommandHandler<AdmitNode> admitNode = new AdmitNodeHandler();
  private final CommandHandler<RemoveNode> removeNode = new RemoveNodeHandler();
  private final CommandHandler<StartZoneMasterKeyRotation> startZoneMasterKeyRotation =
      new StartZoneMasterKeyRotationHandler();
  private final CommandHandler<RewrapKeks> rewrapKeks = new RewrapKeksHandler();
  private final CommandHandler<RetireZoneMasterKeyVersion> retireZoneMasterKeyVersion =
      new RetireZoneMasterKeyVersionHandler();
  private final CommandHandler<SetAuthorizationPolicy> setPolicy;
  private final CommandHandler<BootstrapAuthorizationPolicy> bootstrapPolicy;
  private final CommandHandler<RecordDenials> recordDenials = new RecordDenialsHandler();
  private final CommandHandler<RecordDataAuditHead> recordDataAuditHead =
      new RecordDataAuditHeadHandler();
  private final CommandHandler<RegisterAuditKey> registerAuditKey = new RegisterAuditKeyHandler();
  private final CommandHandler<RecordAuditCheckpoint> recordAuditCheckpoint =
      new RecordAuditCheckpointHandler();
  private final CommandHandler<SetClusterVersion> setClusterVersion =
      new SetClusterVersionHandler();
  private final TrimHistoryHandler trimHistory = new TrimHistoryHandler();
  private final CommandHandler<SignDestructionReceipt> signDestructionReceipt =
      new SignDestructionReceiptHandler();

  /**
   * A dispatcher without an authorisation policy (tests of transitions): commands that carry a
   * principal are refused.
   */
  public CommandDispatcher(StateReader state) {
    this(state, () -> AccessPolicy.NONE);
  }

  /**
   * @param state reads keys, nodes, jobs and zone master keys as they are before each command
   * @param policy the authorisation policy as it is before each command
   */
  public CommandDispatcher(StateReader state, Supplier<AccessPolicy> policy) {
    this(state, policy, Limits.CEILINGS);
  }

  /**
   * @param limits what apply refuses beyond: {@link Limits#CEILINGS} on every replica; other values
   *     only in tests of the limits themselves
   */
  public CommandDispatcher(StateReader state, Supplier<AccessPolicy> policy, Limits limits) {
    this.state = state;
    this.policy = policy;
    this.createKey = new CreateKeyHandler(limits);
    this.rotateKey = findingKey(RotateKey::getName, new RotateKeyHandler(limits));
    this.rotateKeys = new RotateKeysHandler(rotateKey);
    this.cancelRotation =
        findingVersion(
            CancelRotation::getName, CancelRotation::getVersion, new CancelRotationHandler(limits));
    this.rollbackRotation =
        findingVersion(
            RollbackRotation::getName,
            RollbackRotation::getVersion,
            new RollbackRotationHandler(limits));
    this.setPolicy = new SetAuthorizationPolicyHandler(policy);
    this.bootstrapPolicy = new BootstrapAuthorizationPolicyHandler(policy);
  }

  /**
   * Reads the cluster's active version before each command from {@code activeVersion} (the
   * replicated state's; {@link ClusterVersion#BASE} unless set), so handlers gate their behaviour
   * on it ({@link CommandContext#feature}).
   */
  public CommandDispatcher withClusterVersion(IntSupplier activeVersion) {
    this.clusterVersion = activeVersion;
    return this;
  }

  /**
   * The effects of {@code command} applied at log {@code index} and effective {@code timeMillis}.
   */
  public Effects apply(Command command, long index, long timeMillis) {
    int version = clusterVersion.getAsInt();
    CommandContext context =
        new CommandContext(asKnownAt(command, version), index, timeMillis, state, version);
    Optional<Effects> denied = ApplyAuthorization.denial(context, policy.get());
    if (denied.isPresent()) {
      return denied.get();
    }
    return dispatch(context.command(), context);
  }

  /**
   * {@code command} as every binary that may vote at cluster {@code version} reads it: below {@link
   * ApplyFeature#MEMBERSHIP_COMMANDS}, AdmitNode and RemoveNode lose their body, because the base
   * binary does not know them and refuses a command without a body as UNKNOWN_COMMAND (its audit
   * action, reason and message); every other field, and so the audit record, stays the same.
   */
  private static Command asKnownAt(Command command, int version) {
    boolean membership =
        command.getBodyCase() == Command.BodyCase.ADMIT_NODE
            || command.getBodyCase() == Command.BodyCase.REMOVE_NODE;
    if (membership && !ApplyFeature.MEMBERSHIP_COMMANDS.activeAt(version)) {
      return command.toBuilder().clearBody().build();
    }
    return command;
  }

  private Effects dispatch(Command command, CommandContext context) {
    return switch (command.getBodyCase()) {
      case CREATE_KEY -> createKey.apply(command.getCreateKey(), context);
      case ROTATE_KEY -> rotateKey.apply(command.getRotateKey(), context);
      case ROTATE_KEYS -> rotateKeys.apply(command.getRotateKeys(), context);
      case SET_ROTATION_POLICY -> setRotationPolicy.apply(command.getSetRotationPolicy(), context);
      case SET_DEPENDENTS -> setDependents.apply(command.getSetDependents(), context);
      case START_BULK_ROTATION -> startBulkRotation.apply(command.getStartBulkRotation(), context);
      case REPORT_USAGE -> reportUsage.apply(command.getReportUsage(), context);
      case RESERVE_ENCRYPTIONS ->
          reserveEncryptions.apply(command.getReserveEncryptions(), context);
      case SET_VERSION_STATUS -> setVersionStatus.apply(command.getSetVersionStatus(), context);
      case SCHEDULE_VERSION_DESTROY ->
          scheduleDestroy.apply(command.getScheduleVersionDestroy(), context);
      case CANCEL_VERSION_DESTROY ->
          cancelDestroy.apply(command.getCancelVersionDestroy(), context);
      case DESTROY_VERSION -> destroyVersion.apply(command.getDestroyVersion(), context);
      case SET_VERSION_FLOORS -> setVersionFloors.apply(command.getSetVersionFloors(), context);
      case ACKNOWLEDGE_VERSION ->
          acknowledgeVersion.apply(command.getAcknowledgeVersion(), context);
      case CANCEL_ROTATION -> cancelRotation.apply(command.getCancelRotation(), context);
      case ROLLBACK_ROTATION -> rollbackRotation.apply(command.getRollbackRotation(), context);
      case RECORD_ACTIVATION -> recordActivation.apply(command.getRecordActivation(), context);
      case REGISTER_NODE -> registerNode.apply(command.getRegisterNode(), context);
      case ADMIT_NODE -> admitNode.apply(command.getAdmitNode(), context);
      case REMOVE_NODE -> removeNode.apply(command.getRemoveNode(), context);
      case START_ZONE_MASTER_KEY_ROTATION ->
          startZoneMasterKeyRotation.apply(command.getStartZoneMasterKeyRotation(), context);
      case REWRAP_KEKS -> rewrapKeks.apply(command.getRewrapKeks(), context);
      case RETIRE_ZONE_MASTER_KEY_VERSION ->
          retireZoneMasterKeyVersion.apply(command.getRetireZoneMasterKeyVersion(), context);
      case SET_AUTHORIZATION_POLICY ->
          setPolicy.apply(command.getSetAuthorizationPolicy(), context);
      case BOOTSTRAP_AUTHORIZATION_POLICY ->
          bootstrapPolicy.apply(command.getBootstrapAuthorizationPolicy(), context);
      case RECORD_DENIALS -> recordDenials.apply(command.getRecordDenials(), context);
      case RECORD_DATA_AUDIT_HEAD ->
          recordDataAuditHead.apply(command.getRecordDataAuditHead(), context);
      case REGISTER_AUDIT_KEY -> registerAuditKey.apply(command.getRegisterAuditKey(), context);
      case RECORD_AUDIT_CHECKPOINT ->
          recordAuditCheckpoint.apply(command.getRecordAuditCheckpoint(), context);
      case SET_CLUSTER_VERSION -> setClusterVersion.apply(command.getSetClusterVersion(), context);
      // The store applies a batch entry's commands one by one; a batch inside one is refused.
      case BATCH ->
          context.reject(
              ErrorReason.UNKNOWN_COMMAND,
              Code.INVALID_ARGUMENT,
              "a command batch cannot hold another command batch",
              "");
      case TRIM_HISTORY -> trimHistory.apply(command.getTrimHistory(), context);
      case SIGN_DESTRUCTION_RECEIPT ->
          signDestructionReceipt.apply(command.getSignDestructionReceipt(), context);
      case BODY_NOT_SET ->
          context.reject(
              ErrorReason.UNKNOWN_COMMAND,
              Code.INVALID_ARGUMENT,
              "this node does not know the command kind " + command.getBodyCase(),
              "");
    };
  }
}
