package io.keyrotor.hsm.pkcs11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.keyrotor.hsm.ZoneMasterKeyId;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** The share ceremony's messages are values: equal by content, through their text form too. */
class ShareMessagesTest {
  private static final ZoneMasterKeyId ZMK = new ZoneMasterKeyId("us", 2);

  @Test
  void shareRequest_decodedFromItsText_equalsTheOriginal() throws Exception {
    ShareRequest request =
        new ShareRequest(
            ZMK, "receiver", new byte[] {1, 2, 3}, BigInteger.valueOf(3233), BigInteger.TWO);

    ShareRequest decoded = ShareRequest.decode(request.encode());

    assertEquals(request, decoded);
    assertEquals(request.hashCode(), decoded.hashCode());
    assertNotEquals(
        request,
        new ShareRequest(
            ZMK, "receiver", new byte[] {1, 2, 4}, BigInteger.valueOf(3233), BigInteger.TWO));
  }

  @Test
  void shareBundle_decodedFromItsText_equalsTheOriginal() throws Exception {
    ShareBundle bundle =
        new ShareBundle(ZMK, new byte[] {1, 2, 3}, "SHA-256", new byte[] {9, 8, 7, 6}, "a1b2c3");

    ShareBundle decoded = ShareBundle.decode(bundle.encode());

    assertEquals(bundle, decoded);
    assertEquals(bundle.hashCode(), decoded.hashCode());
    assertNotEquals(
        bundle,
        new ShareBundle(ZMK, new byte[] {1, 2, 3}, "SHA-256", new byte[] {9, 8, 7, 5}, "a1b2c3"));
  }
}
