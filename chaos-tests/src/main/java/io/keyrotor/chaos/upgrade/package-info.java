/**
 * The rolling upgrade run behind {@code scripts/chaos --upgrade}: a cluster of the previous
 * release's jar, replaced node by node with this build's jar under write load, with its cluster
 * version, digest and acknowledged-write checks.
 */
package io.keyrotor.chaos.upgrade;
