/** Deliberately bad storage classes: each breaks one architecture rule, to show the rule fails. */
package io.keyrotor.storage.architecturefixture;
