package io.keyrotor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.dataplane.DataKeySpec;
import io.keyrotor.server.dataplane.DataPlaneException;
import org.junit.jupiter.api.Test;

/** The gRPC adapter's conversion of the API's data key spec into the data plane's own. */
class DataPlaneCallsTest {

  @Test
  void spec_unspecifiedOrAes256_isAes256() throws Exception {
    assertEquals(
        DataKeySpec.AES_256,
        DataPlaneCalls.spec(io.keyrotor.api.v1.DataKeySpec.DATA_KEY_SPEC_UNSPECIFIED));
    assertEquals(
        DataKeySpec.AES_256,
        DataPlaneCalls.spec(io.keyrotor.api.v1.DataKeySpec.DATA_KEY_SPEC_AES_256));
    assertEquals(32, DataKeySpec.AES_256.lengthBytes());
  }

  @Test
  void spec_aes128_isAes128() throws Exception {
    assertEquals(
        DataKeySpec.AES_128,
        DataPlaneCalls.spec(io.keyrotor.api.v1.DataKeySpec.DATA_KEY_SPEC_AES_128));
    assertEquals(16, DataKeySpec.AES_128.lengthBytes());
  }

  @Test
  void spec_numberTheApiDoesNotDefine_invalidDataKeySpec() {
    DataPlaneException refused =
        assertThrows(
            DataPlaneException.class,
            () -> DataPlaneCalls.spec(io.keyrotor.api.v1.DataKeySpec.UNRECOGNIZED));
    assertEquals(ErrorReason.INVALID_DATA_KEY_SPEC, refused.reason());
  }
}
