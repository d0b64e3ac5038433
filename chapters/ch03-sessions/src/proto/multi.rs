//! multi (14) and multiRead (22): many ops in one request, one transaction.
//!
//! The body is not a jute record with a count: it is a run of
//! `MultiHeader{type, done=false, err=-1}` + op record pairs, ended by a
//! sentinel `MultiHeader{type=-1, done=true, err=-1}`. The reply has the same
//! shape, one result per op (`MultiOperationRecord` and `MultiResponse` in
//! ZooKeeper). The reply header's `err` is 0 even when an op failed: a
//! failure shows up inside, as every result turning into an error result
//! (ops before the failing one carry 0, the failing op its code, the ones
//! after it -2 RuntimeInconsistency).

use crate::jute::{DecodeError, Reader, Record, Writer};

use super::opcode::OpCode;
use super::records::{
    CheckVersionRequest, Create2Response, CreateRequest, CreateResponse, CreateTtlRequest,
    DeleteRequest, ErrorResponse, GetChildrenRequest, GetChildrenResponse, GetDataRequest,
    GetDataResponse, MultiHeader, SetDataRequest, SetDataResponse,
};
use super::request::null_path_as_empty;

/// One op inside a multi (or multiRead: only the two reads).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MultiOp {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    /// multiRead only.
    GetChildren(GetChildrenRequest),
    /// multiRead only.
    GetData(GetDataRequest),
    /// An op whose path is null on the wire, held here with an empty path. Upstream's reader
    /// takes it, and the request then fails on it as a whole: a multi looks every op's path
    /// up before it starts (`getPendingChanges`), a multiRead when it reaches the op; both
    /// throw, and the answer is MarshallingError.
    NullPath(Box<MultiOp>),
}

impl MultiOp {
    /// The op as upstream runs it. `MultiOperationRecord` reads a createTTL op with
    /// `Op.create(path, data, acl, flags, ttl)`, which keeps the TTL only when the flags name
    /// a TTL mode (5, 6): any other flag makes the op the create of that flag, a
    /// createContainer for flag 4 (`Op.Create.getOpcode`), and the TTL is dropped. ZooKeeper
    /// 3.8.0 to 3.9 alike. Every other op runs as it was sent.
    pub fn as_run(&self) -> MultiOp {
        match self {
            MultiOp::CreateTtl(r) if !matches!(r.flags, 5 | 6) => {
                let create = CreateRequest {
                    path: r.path.clone(),
                    data: r.data.clone(),
                    acl: r.acl.clone(),
                    flags: r.flags,
                };
                match r.flags {
                    4 => MultiOp::CreateContainer(create),
                    _ => MultiOp::Create(create),
                }
            }
            op => op.clone(),
        }
    }
}

/// The ops of a multi or multiRead request, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MultiRequest {
    pub ops: Vec<MultiOp>,
}

/// One op's result inside a multi reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    Create(CreateResponse),
    /// A create result with its Stat: the answer to create2, createContainer and createTTL,
    /// whose result type is always create2 (15), as upstream's `OpResult.CreateResult(path,
    /// stat)` is.
    Create2(Create2Response),
    Delete,
    SetData(SetDataResponse),
    Check,
    GetChildren(GetChildrenResponse),
    GetData(GetDataResponse),
    /// A failed (or rolled-back) op: result type -1 and this code.
    Error(i32),
}

/// The results of a multi or multiRead, one per op.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MultiResponse {
    pub results: Vec<OpResult>,
}

/// The header that ends both lists.
const DONE: MultiHeader = MultiHeader {
    r#type: -1,
    done: true,
    err: -1,
};

impl MultiOp {
    /// The opcode this op travels under.
    pub fn op_code(&self) -> OpCode {
        match self {
            MultiOp::Create(_) => OpCode::Create,
            MultiOp::Create2(_) => OpCode::Create2,
            MultiOp::CreateContainer(_) => OpCode::CreateContainer,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
            MultiOp::NullPath(op) => op.op_code(),
        }
    }

    /// The path the op is about.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
            MultiOp::NullPath(op) => op.path(),
        }
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => r.encode(w),
            MultiOp::CreateTtl(r) => r.encode(w),
            MultiOp::Delete(r) => r.encode(w),
            MultiOp::SetData(r) => r.encode(w),
            MultiOp::Check(r) => r.encode(w),
            MultiOp::GetChildren(r) => r.encode(w),
            MultiOp::GetData(r) => r.encode(w),
            MultiOp::NullPath(op) => {
                let mut body = Writer::new();
                op.encode_body(&mut body);
                let mut body = body.into_bytes();
                body[..4].copy_from_slice(&(-1i32).to_be_bytes());
                w.write_raw(&body);
            }
        }
    }

    fn decode_body(op_type: i32, r: &mut Reader<'_>) -> Result<MultiOp, DecodeError> {
        let op = OpCode::from_code(op_type).ok_or(DecodeError::InvalidValue {
            what: "MultiHeader.type",
            value: op_type.into(),
        })?;
        // Every op record starts with its path; a null one is read as empty and marked.
        let null = r.rest().starts_with(&(-1i32).to_be_bytes());
        let op = match op {
            OpCode::Create => MultiOp::Create(null_path_as_empty(r, "multi create")?),
            OpCode::Create2 => MultiOp::Create2(null_path_as_empty(r, "multi create2")?),
            OpCode::CreateContainer => {
                MultiOp::CreateContainer(null_path_as_empty(r, "multi createContainer")?)
            }
            OpCode::CreateTtl => MultiOp::CreateTtl(null_path_as_empty(r, "multi createTTL")?),
            OpCode::Delete => MultiOp::Delete(null_path_as_empty(r, "multi delete")?),
            OpCode::SetData => MultiOp::SetData(null_path_as_empty(r, "multi setData")?),
            OpCode::Check => MultiOp::Check(null_path_as_empty(r, "multi check")?),
            OpCode::GetChildren => {
                MultiOp::GetChildren(null_path_as_empty(r, "multi getChildren")?)
            }
            OpCode::GetData => MultiOp::GetData(null_path_as_empty(r, "multi getData")?),
            // Any other opcode cannot appear inside a multi
            // (MultiOperationRecord.deserialize: "Invalid type of op").
            _ => {
                return Err(DecodeError::InvalidValue {
                    what: "MultiHeader.type",
                    value: op_type.into(),
                })
            }
        };
        Ok(if null {
            MultiOp::NullPath(Box::new(op))
        } else {
            op
        })
    }
}

impl Record for MultiRequest {
    fn encode(&self, w: &mut Writer) {
        for op in &self.ops {
            MultiHeader {
                r#type: op.op_code().code(),
                done: false,
                err: -1,
            }
            .encode(w);
            op.encode_body(w);
        }
        DONE.encode(w);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut ops = Vec::new();
        loop {
            let header: MultiHeader = r.field("MultiHeader")?;
            if header.done {
                return Ok(MultiRequest { ops });
            }
            ops.push(MultiOp::decode_body(header.r#type, r)?);
        }
    }
}

impl OpResult {
    /// The result header's type: the op's opcode, or -1 for an error.
    pub fn result_type(&self) -> i32 {
        match self {
            OpResult::Create(_) => OpCode::Create.code(),
            OpResult::Create2(_) => OpCode::Create2.code(),
            OpResult::Delete => OpCode::Delete.code(),
            OpResult::SetData(_) => OpCode::SetData.code(),
            OpResult::Check => OpCode::Check.code(),
            OpResult::GetChildren(_) => OpCode::GetChildren.code(),
            OpResult::GetData(_) => OpCode::GetData.code(),
            OpResult::Error(_) => OpCode::Error.code(),
        }
    }

    fn header_err(&self) -> i32 {
        match self {
            OpResult::Error(err) => *err,
            _ => 0,
        }
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            OpResult::Create(r) => r.encode(w),
            OpResult::Create2(r) => r.encode(w),
            OpResult::Delete | OpResult::Check => {}
            OpResult::SetData(r) => r.encode(w),
            OpResult::GetChildren(r) => r.encode(w),
            OpResult::GetData(r) => r.encode(w),
            OpResult::Error(err) => ErrorResponse { err: *err }.encode(w),
        }
    }

    fn decode_body(result_type: i32, r: &mut Reader<'_>) -> Result<OpResult, DecodeError> {
        let invalid = DecodeError::InvalidValue {
            what: "MultiHeader.type",
            value: result_type.into(),
        };
        Ok(
            match OpCode::from_code(result_type).ok_or(invalid.clone())? {
                OpCode::Create => OpResult::Create(r.field("multi create result")?),
                OpCode::Create2 => OpResult::Create2(r.field("multi create2 result")?),
                OpCode::Delete => OpResult::Delete,
                OpCode::SetData => OpResult::SetData(r.field("multi setData result")?),
                OpCode::Check => OpResult::Check,
                OpCode::GetChildren => OpResult::GetChildren(r.field("multi getChildren result")?),
                OpCode::GetData => OpResult::GetData(r.field("multi getData result")?),
                OpCode::Error => {
                    OpResult::Error(r.field::<ErrorResponse>("multi error result")?.err)
                }
                _ => return Err(invalid),
            },
        )
    }
}

impl Record for MultiResponse {
    fn encode(&self, w: &mut Writer) {
        for result in &self.results {
            MultiHeader {
                r#type: result.result_type(),
                done: false,
                err: result.header_err(),
            }
            .encode(w);
            result.encode_body(w);
        }
        DONE.encode(w);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut results = Vec::new();
        loop {
            let header: MultiHeader = r.field("MultiHeader")?;
            if header.done {
                return Ok(MultiResponse { results });
            }
            results.push(OpResult::decode_body(header.r#type, r)?);
        }
    }
}
