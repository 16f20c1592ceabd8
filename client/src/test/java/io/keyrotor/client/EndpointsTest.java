package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
