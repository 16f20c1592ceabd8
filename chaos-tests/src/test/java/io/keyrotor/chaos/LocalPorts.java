package io.keyrotor.chaos;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** Free port ranges for local clusters started by scripts/cluster. */
final class LocalPorts {
  private LocalPorts() {}

  /**
   * A base port P with P+1..P+n (APIs) and P+101..P+100+n (Raft) free, below the kernel's ephemeral
   * range (32768+): a port from that range can be taken by any outgoing connection while a killed
   * node waits to restart on it.
   */
  static int freeBasePort(int nodes) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 10_000 + ThreadLocalRandom.current().nextInt(21_800);
      boolean free = true;
      for (int i = 1; i <= nodes && free; i++) {
        free = isFree(base + i) && isFree(base + 100 + i);
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no free port range below the ephemeral range");
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return socket.isBound();
    } catch (IOException e) {
      return false;
    }
  }
}
