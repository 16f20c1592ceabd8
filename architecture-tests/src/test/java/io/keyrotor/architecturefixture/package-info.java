/** Deliberately bad classes: each breaks one architecture rule, to show the rule fails. */
package io.keyrotor.architecturefixture;
