package io.keyrotor.server.api;

import io.grpc.StatusRuntimeException;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.rotation.KekIssuer;

/**
 * New key-encryption keys for writes: generated from the HSM's random source and wrapped by the HSM
 * under the zone's master key (the plaintext never leaves {@link KekIssuer} and is zeroed), only on
 * the {@link HsmExecutor}: minting anywhere else is a bug and throws.
 */
final class KekMinter {
  private final ServerContext context;
  private final HsmExecutor executor;
  private final KekIssuer issuer;
  private final ErrorMapper errors;

  KekMinter(ServerContext context, HsmExecutor executor) {
    this.context = context;
    this.executor = executor;
    this.issuer = new KekIssuer(context.hsm());
    this.errors = context.errors();
  }

  /**
   * A fresh KEK for version {@code version} of {@code keyName} in {@code zone}, wrapped and bound
   * to that version (see {@link KekIssuer}).
   *
   * @throws StatusRuntimeException ZONE_NOT_HELD (with the nodes that hold the zone) or
   *     ZONE_NOT_FOUND when this node does not serve the zone; the HSM's failure otherwise
   * @throws IllegalStateException when called on a thread that is not the HSM executor's
   */
  WrappedKeyMaterial newWrappedKek(String zone, String keyName, int version) {
    if (!executor.runsCurrentThread()) {
      throw new IllegalStateException(
          "key-encryption keys are minted on the HSM executor, not on "
              + Thread.currentThread().getName());
    }
    if (!context.config().zones().contains(zone) || !context.hsm().zones().contains(zone)) {
      throw errors.zoneNotHeld(zone);
    }
    try {
      return issuer.newWrappedKek(zone, keyName, version);
    } catch (HsmException e) {
      if (e.reason() == HsmException.Reason.ZONE_NOT_HELD) {
        throw errors.zoneNotHeld(zone);
      }
      throw ApiErrors.fromHsm(e, zone);
    }
  }
}
