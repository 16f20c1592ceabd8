package io.keyrotor.server.hsm;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * A ceremony on one node's HSM, named by {@code --node-dir}: {@link #run} gets the HSM with its
 * secret read, and the secret is zeroed once it returns.
 */
abstract class NodeCeremony implements Callable<Integer> {
  @Mixin NodeDirectory node;

  @Override
  public final Integer call() throws Exception {
    try (NodeHsm hsm = node.hsm()) {
      run(hsm);
    }
    return 0;
  }

  abstract void run(NodeHsm hsm) throws Exception;
}
