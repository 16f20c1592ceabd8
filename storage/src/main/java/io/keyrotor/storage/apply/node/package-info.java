/** The handler of node registration: what each node tells the cluster about itself. */
package io.keyrotor.storage.apply.node;
