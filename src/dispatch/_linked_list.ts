// An intrusive doubly linked list: the node itself (a job, an affinity entry) carries the links,
// so push, shift and removal from the middle (an aborted job, a refreshed session) are O(1) and
// allocate nothing.

/** What a {@linkcode LinkedList} holds: anything with links it may own. */
export interface Linked<T extends Linked<T>> {
  prev: T | undefined;
  next: T | undefined;
  /** The list the node is in, if any. */
  list: LinkedList<T> | undefined;
}

/** A FIFO of linked nodes; a node is in at most one list at a time. */
export class LinkedList<T extends Linked<T>> {
  head: T | undefined = undefined;
  tail: T | undefined = undefined;
  size = 0;

  push(node: T): void {
    node.list = this;
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.size++;
  }

  shift(): T | undefined {
    const node = this.head;
    if (node !== undefined) this.remove(node);
    return node;
  }

  remove(node: T): void {
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = node.list = undefined;
    this.size--;
  }
}
