package io.keyrotor.server.hsm;

import picocli.CommandLine.Parameters;

/** A ceremony about one zone of a node's HSM, named by the first parameter. */
abstract class ZoneCeremony extends NodeCeremony {
  @Parameters(index = "0", description = "The zone.")
  String zone;
}
