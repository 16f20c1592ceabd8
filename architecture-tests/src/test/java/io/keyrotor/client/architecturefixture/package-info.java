/** A deliberately bad SDK class: it breaks the public-API rule, to show the rule fails. */
package io.keyrotor.client.architecturefixture;
