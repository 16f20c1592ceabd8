package io.keyrotor.server.hsm;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.server.config.NodeConfig;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * A node's HSM work: in the background, the zone master key rotation driver and the health probe,
 * on a thread of their own ({@code keyrotor-hsm}) so that a slow HSM never delays other scheduled
 * work; and the {@link HsmExecutor} where calls mint new key-encryption keys.
 *
 * @param driver the zone master key rotation driver (its last error per zone is node status)
 * @param calls where calls mint new key-encryption keys
 */
public record HsmTasks(
    ScheduledExecutorService background,
    ZoneMasterKeyRotationDriver driver,
    HsmHealthProbe probe,
    HsmExecutor calls)
    implements AutoCloseable {

  /**
   * Starts the driver (for the zones this node serves) and the probe, which tells {@code
   * onHealthChange} whenever the HSM stops or starts answering.
   */
  public static HsmTasks start(
      RaftNode raft, Hsm hsm, NodeConfig config, Consumer<Boolean> onHealthChange) {
    ScheduledExecutorService background =
        Executors.newSingleThreadScheduledExecutor(
            new ThreadFactoryBuilder().setNameFormat("keyrotor-hsm").setDaemon(true).build());
    ZoneMasterKeyRotationDriver driver =
        new ZoneMasterKeyRotationDriver(raft, hsm, config.nodeId(), config.zones());
    HsmHealthProbe probe = new HsmHealthProbe(hsm, onHealthChange);
    driver.start(background);
    probe.start(background);
    return new HsmTasks(
        background,
        driver,
        probe,
        new HsmExecutor(HsmExecutor.DEFAULT_THREADS, config.flow().hsmQueueCapacity()));
  }

  @Override
  public void close() {
    driver.close();
    probe.close();
    background.shutdownNow();
    calls.close();
  }
}
