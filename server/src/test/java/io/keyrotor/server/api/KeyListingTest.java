package io.keyrotor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ListKeys' checked request: page size, page tokens and label selectors. */
class KeyListingTest {

  @Test
  void pageToken_roundTripsTheLastName() {
    String token = PageToken.after("orders-17");

    assertEquals("orders-17", PageToken.lastNameOf(token));
    assertFalse(token.contains("orders"), "opaque to clients");
    assertEquals("", PageToken.lastNameOf(""));
  }

  @Test
  void pageToken_notIssuedHere_invalidPageToken() {
    for (String token : new String[] {"garbage!", PageToken.after("x").substring(1), "b3JkZXJz"}) {
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> PageToken.lastNameOf(token));
      assertEquals(ErrorReason.INVALID_PAGE_TOKEN.name(), ApiErrors.reasonOf(e), token);
    }
  }

  @Test
  void pageSize_unsetIsTheDefaultAndAboveTheMaximumRefused() {
    assertEquals(
        KeyListing.DEFAULT_PAGE_SIZE,
        KeyListing.of(ListKeysRequest.getDefaultInstance()).pageSize());
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                KeyListing.of(
                    ListKeysRequest.newBuilder()
                        .setPageSize(KeyListing.MAX_PAGE_SIZE + 1)
                        .build()));
    assertEquals(ErrorReason.INVALID_PAGE_SIZE.name(), ApiErrors.reasonOf(e));
  }

  @Test
  void labelSelector_matchesKeysCarryingEveryWantedLabel() {
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName("k")
            .addLabels(Label.newBuilder().setKey("team").setValue("payments"))
            .addLabels(Label.newBuilder().setKey("tier").setValue("1"))
            .build();

    assertTrue(new LabelSelector(Map.of()).matches(key));
    assertTrue(new LabelSelector(Map.of("team", "payments")).matches(key));
    assertTrue(new LabelSelector(Map.of("team", "payments", "tier", "1")).matches(key));
    assertFalse(new LabelSelector(Map.of("team", "payments", "tier", "2")).matches(key));
    assertFalse(new LabelSelector(Map.of("region", "eu")).matches(key));
  }
}
