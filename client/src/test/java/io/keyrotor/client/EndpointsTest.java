package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EndpointsTest {

  @Test
  void parseList_trimsAndDropsDuplicates() {
    assertEquals(
        List.of("127.0.0.1:7101", "node-2.example:7102", "[::1]:7103"),
        Endpoints.parseList(" 127.0.0.1:7101, node-2.example:7102,,[::1]:7103,127.0.0.1:7101 "));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "host",
        "host:",
        ":7101",
        "host:0",
        "host:70000",
        "host:x",
        "::1:7101",
        "http://host:7101",
        "a b:1"
      })
  void validate_rejectsMalformedAddresses(String address) {
    assertThrows(IllegalArgumentException.class, () -> Endpoints.validate(address));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"127.0.0.1:7101", "127.1.2.3:1", "localhost:7101", "LOCALHOST:1", "[::1]:7101"})
  void isLoopback_acceptsThisMachine(String address) {
    assertTrue(Endpoints.isLoopback(address));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.1:7101",
        "0.0.0.0:7101",
        "128.0.0.1:1",
        "[2001:db8::1]:7101",
        "localhost.example.com:1",
        "node-1:7101",
        "127.0.0.1.nip.io:1"
      })
  void isLoopback_refusesEverythingElse_withoutAskingDns(String address) {
    assertFalse(Endpoints.isLoopback(address));
  }
}
