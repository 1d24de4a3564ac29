export interface Address {
  street: string;
  city: string;
  postcode?: string;
}

export interface Customer {
  id: string;
  email: string;
  address: Address;
}

export enum Priority {
  Low,
  Normal,
  High,
}

export enum Channel {
  Web = 'web',
  Store = 'store',
}
